import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';

const INDEX = '<!doctype html><html><head><script type="module" src="/admin/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';
const CSP = /script-src 'self'(;|$)/;

/** Issue 12: the dashboard's built files at /admin, from a fixture build folder (SESAME_ADMIN_DIR). */
for (const { backend, skip } of await backendMatrix()) {
  describe(`/admin static files [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let missing: TestServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sesame-admin-'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), INDEX);
      writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), 'console.log("dashboard");\n');
      writeFileSync(join(dir, 'assets', 'index-Zz99.css'), 'body{margin:0}\n');
      writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      srv = await bootServer({ backend, env: { SESAME_ADMIN_DIR: dir } });
      missing = await bootServer({ backend, env: { SESAME_ADMIN_DIR: join(dir, 'not-built') } });
    });
    after(async () => {
      await srv?.close();
      await missing?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const get = (path: string, server = srv) => fetch(`${server.baseUrl}${path}`, { redirect: 'manual' });
    function assertHardened(res: Response) {
      assert.match(res.headers.get('content-security-policy') ?? '', CSP);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /script-src[^;]*unsafe-inline/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }

    it('index.html for /admin, /admin/ and extension-less deep links, never cached', async () => {
      for (const path of ['/admin', '/admin/', '/admin/logs', '/admin/users/email%7C123?tab=logs', '/admin/settings/advanced/']) {
        const res = await get(path);
        assert.equal(res.status, 200, path);
        assert.equal(await res.text(), INDEX, path);
        assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
        assert.equal(res.headers.get('cache-control'), 'no-store', path);
        assertHardened(res);
      }
    });

    it('hashed assets are cached immutably with their type; other files are revalidated', async () => {
      const js = await get('/admin/assets/index-Ab12Cd34.js');
      assert.equal(js.status, 200);
      assert.equal(await js.text(), 'console.log("dashboard");\n');
      assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assertHardened(js);
      const css = await get('/admin/assets/index-Zz99.css');
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
      const svg = await get('/admin/favicon.svg');
      assert.deepEqual([svg.status, svg.headers.get('content-type'), svg.headers.get('cache-control')], [200, 'image/svg+xml', 'no-cache']);
    });

    it('missing files are 404, never index.html; nothing outside the build folder is served', async () => {
      for (const path of ['/admin/assets/gone-123.js', '/admin/assets/deep/link', '/admin/robots.txt', '/admin/..%2f..%2fpackage.json', '/admin/%2e%2e/%2e%2e/etc/passwd']) {
        const res = await get(path);
        assert.equal(res.status, 404, path);
        assert.doesNotMatch(await res.text(), /doctype|root/i, path);
      }
      assert.equal((await get('/admin/%E0%A4%A')).status, 400, 'a malformed escape is a bad request (Fastify answers it)');
      // NUL is refused at the boundary on every route (issue 11), before any file lookup.
      const nul = await get('/admin/assets/%00.js');
      assert.equal(nul.status, 400);
      assert.doesNotMatch(await nul.text(), /doctype|root/i);
    });

    it('/admin/config.json is public, not cached and hardened', async () => {
      const res = await get('/admin/config.json');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assertHardened(res);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['audience', 'clientId', 'devMode', 'domain', 'issuer']);
      assert.doesNotMatch(JSON.stringify(body), /secret/i);
    });

    it('without a build, /admin answers a 503 page that says how to build it', async () => {
      for (const path of ['/admin', '/admin/logs', '/admin/assets/index-Ab12Cd34.js']) {
        const res = await get(path, missing);
        assert.equal(res.status, 503, path);
        assert.match(await res.text(), /npm run build:admin/);
        assertHardened(res);
      }
      assert.equal((await get('/admin/config.json', missing)).status, 200, 'the bootstrap file does not need the build');
    });
  });
}
