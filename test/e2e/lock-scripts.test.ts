import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient } from '../helpers/fixtures.ts';

/** Lock's own parsers (auth0-lock 14.3.0, CommonJS): what it makes of our answers is what counts. */
const require = createRequire(import.meta.url);
const lockClient = require('auth0-lock/lib/core/client/index.js') as {
  initClient(m: unknown, o: unknown): unknown;
  clientConnections(m: unknown): { toJS(): Record<string, { name: string; strategy: string; type: string; displayName: string }[]> };
  hasFreeSubscription(m: unknown): boolean;
};
const lockTenant = require('auth0-lock/lib/core/tenant/index.js') as {
  initTenant(m: unknown, clientId: string, o: unknown): unknown;
  tenantConnections(m: unknown): { toJS(): Record<string, unknown[]> };
};
// Lock's own copy of immutable (a dependency of auth0-lock, not of Sesame).
const { Map: ImmutableMap } = createRequire(require.resolve('auth0-lock/package.json'))('immutable') as { Map: () => unknown };

/** Runs a JSONP script against a fake `Auth0` global, as Lock's cdn_utils does in the browser. */
function run(script: string, method: 'setClient' | 'setTenant'): Record<string, unknown> {
  const calls: unknown[][] = [];
  vm.runInNewContext(script, { Auth0: { [method]: (...args: unknown[]) => calls.push(args) } }, { timeout: 1000 });
  assert.equal(calls.length, 1, `${method} called once`);
  assert.equal(calls[0]!.length, 1);
  // Out of the sandbox's realm, so deepEqual compares plain values.
  return JSON.parse(JSON.stringify(calls[0]![0])) as Record<string, unknown>;
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`Lock's scripts [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(async () => {
      await server?.close();
    });

    const get = (path: string) => fetch(`${server.baseUrl}${path}`);

    it('GET /client/{id}.js?t… calls Auth0.setClient with Auth0\'s shape, and Lock lists the email connection', async () => {
      const { client } = await createClient(server, { app_type: 'spa', callbacks: ['https://app.example.com/cb', 'https://app.example.com/other'], allowed_origins: ['https://app.example.com'] });
      const res = await get(`/client/${client.client_id}.js?t${Date.now()}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const settings = run(await res.text(), 'setClient');
      assert.deepEqual(settings, {
        id: client.client_id,
        tenant: 'localhost',
        subscription: 'enterprise',
        authorize: `${server.issuer}authorize`,
        callback: 'https://app.example.com/cb',
        hasAllowedOrigins: true,
        strategies: [{ name: 'email', connections: [{ name: 'email', display_name: 'email' }] }],
      });

      const m = lockClient.initClient(ImmutableMap(), settings);
      assert.deepEqual(lockClient.clientConnections(m).toJS().passwordless, [{ name: 'email', strategy: 'email', type: 'passwordless', displayName: 'email' }]);
      assert.equal(lockClient.hasFreeSubscription(m), false, 'no badge loaded from a CDN');
    });

    it('lists no strategy for a client without passwordless connections', async () => {
      const { client } = await createClient(server, { app_type: 'spa' }, { enableOn: null });
      const settings = run(await (await get(`/client/${client.client_id}.js`)).text(), 'setClient');
      assert.deepEqual(settings.strategies, []);
      assert.equal(settings.callback, '');
      assert.equal(settings.hasAllowedOrigins, false);
    });

    it('escapes values for a script context', async () => {
      const nasty = 'https://app.example.com/cb?x=</script><script>alert(1)</script>&y=\u2028\u2029<!--';
      const { client } = await createClient(server, { app_type: 'spa', callbacks: [nasty] });
      const text = await (await get(`/client/${client.client_id}.js`)).text();
      assert.ok(!text.includes('</script') && !text.includes('<!--'), text);
      assert.ok(!text.includes('\u2028') && !text.includes('\u2029'));
      assert.equal(run(text, 'setClient').callback, nasty);
    });

    it('answers 404 with a script comment for unknown clients, echoing nothing', async () => {
      for (const path of ['/client/nope.js', '/client/nope', `/client/${encodeURIComponent('*/alert(1)/*')}.js`]) {
        const res = await get(path);
        assert.equal(res.status, 404, path);
        assert.equal(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
        assert.equal(await res.text(), '/* Unknown client */\n');
      }
    });

    it('GET /info-v1.js calls Auth0.setTenant with every connection type Lock iterates', async () => {
      const { client } = await createClient(server, { app_type: 'spa' });
      const res = await get(`/info-v1.js?t${Date.now()}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/javascript; charset=utf-8');
      const tenant = run(await res.text(), 'setTenant');
      assert.equal(tenant.name, 'localhost');
      assert.equal(tenant.subscription, 'enterprise');
      assert.deepEqual(Object.keys(tenant.connections as object).sort(), ['database', 'enterprise', 'passwordless', 'social', 'unknown']);
      assert.deepEqual((tenant.connections as { passwordless: unknown }).passwordless, [{ name: 'email', strategy: 'email' }]);
      assert.deepEqual((tenant.clientsConnections as Record<string, string[]>)[client.client_id], ['email']);
      // Lock's tenant parser accepts it (it skips passwordless connections in tenant mode by design).
      const m = lockTenant.initTenant(ImmutableMap(), client.client_id, tenant);
      assert.deepEqual(lockTenant.tenantConnections(m).toJS().database, []);
    });
  });
}
