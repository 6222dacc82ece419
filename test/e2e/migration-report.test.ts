import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { cli } from '../helpers/cli.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

const FLAG = 'enforce_client_authentication_on_passwordless_start';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const telemetry = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
type App = { client: Client; secret: string };


/**
 * Issue 4 §1–2 end to end over HTTPS: a tenant with the issue's mix of callers, the report in its
 * three formats from the spawned CLI, a window without notices, then enforce refusing, forcing and
 * rolling back.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`sesame migration-report and enforce [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let f: typeof fetch;
    let env: Record<string, string>;
    let conn: string[];
    let legacy: App;
    let web: App;
    let compliant: App;
    let spa: App;
    let afterCalls: string;

    const start = (a: App, headers: Record<string, string>, extra: Record<string, string> = {}) =>
      f(`${srv.baseUrl}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ client_id: a.client.client_id, connection: 'email', email: uniqueEmail(), send: 'code', ...extra }),
      });

    before(async () => {
      const cert = await makeTestCert();
      f = trustedFetch(cert.ca);
      srv = await bootServer({ backend, env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath, SESAME_START_LIMIT_PER_HOUR: '0' } });
      env = { NODE_EXTRA_CA_CERTS: cert.certPath };
      conn = ['--domain', new URL(srv.issuer).host, '--client-id', MGMT.client_id, '--client-secret', MGMT.client_secret];
      legacy = await createClient(srv, { app_type: 'regular_web', name: 'Legacy Backend Service (node-auth0 v3)' });
      web = await createClient(srv, { app_type: 'regular_web', name: 'Storefront Web App | with a long name' });
      compliant = await createClient(srv, { app_type: 'regular_web', name: 'Compliant Backend' });
      spa = await createClient(srv, { app_type: 'spa', name: 'Single Page App' });

      const calls = [
        // a backend without its secret, node-auth0 v3 telemetry
        start(legacy, { 'auth0-client': telemetry({ name: 'node-auth0', version: '3.7.2', env: { node: '20.11.0' } }), 'user-agent': 'node-superagent/3.8.3' }),
        start(legacy, { 'auth0-client': telemetry({ name: 'node-auth0', version: '3.7.2' }), 'user-agent': 'node-superagent/3.8.3' }),
        // the same confidential app called from a browser with auth0.js…
        start(web, { 'auth0-client': telemetry({ name: 'auth0.js', version: '9.23.0' }), 'user-agent': CHROME }),
        // …and from a custom login page template that does not forward the state
        start(web, { 'auth0-client': telemetry({ name: 'lock.js-ulp', version: '12.0.2', env: { 'auth0.js-ulp': '9.23.0' } }), 'user-agent': CHROME }),
        // compliant callers leave no notice
        start(compliant, { 'auth0-client': telemetry({ name: 'node-auth0', version: '4.37.1' }) }, { client_secret: compliant.secret }),
        start(spa, { 'auth0-client': telemetry({ name: 'auth0-spa-js', version: '2.1.3' }), 'user-agent': CHROME }),
      ];
      for (const res of await Promise.all(calls)) assert.equal(res.status, 200, await res.text());
      await new Promise((r) => setTimeout(r, 20));
      afterCalls = new Date().toISOString();
    });
    after(async () => {
      await srv?.close();
    });

    it('--json lists exactly the three non-compliant callers, classified, with their fix; exit 1', async () => {
      const run = await cli(['migration-report', ...conn, '--json'], env);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr, '', 'no progress bar without a terminal');
      const doc = JSON.parse(run.stdout); // exactly one JSON document
      assert.deepEqual(Object.keys(doc).sort(), ['applications', 'ready', 'total', 'window']);
      assert.equal(doc.ready, false);
      assert.equal(doc.total, 4);
      assert.ok(Date.parse(doc.window.until) - Date.parse(doc.window.since) === 30 * 86_400_000, 'default window 30d');
      const byKind = Object.fromEntries(doc.applications.map((a: any) => [a.classification, a]));
      assert.equal(doc.applications.length, 3);
      assert.deepEqual(Object.keys(byKind).sort(), ['backend', 'browser', 'login_page']);

      const be = byKind.backend;
      assert.deepEqual(Object.keys(be).sort(), ['app_type', 'classification', 'client_id', 'client_name', 'count', 'first_seen', 'fix', 'ips', 'last_seen', 'sdks', 'user_agents']);
      assert.equal(be.client_id, legacy.client.client_id);
      assert.equal(be.client_name, 'Legacy Backend Service (node-auth0 v3)');
      assert.equal(be.app_type, 'regular_web');
      assert.equal(be.count, 2);
      assert.ok(be.first_seen <= be.last_seen && be.last_seen <= afterCalls);
      assert.match(be.first_seen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(be.ips, ['127.0.0.1']);
      assert.deepEqual(be.user_agents, ['node-superagent/3.8.3']);
      assert.deepEqual(be.sdks, [{ name: 'node-auth0', version: '3.7.2' }]);
      assert.match(be.fix, /node-auth0.*v4\.0\.0/);

      // One application called two ways: one entry per kind.
      for (const kind of ['browser', 'login_page']) {
        assert.equal(byKind[kind].client_id, web.client.client_id);
        assert.equal(byKind[kind].client_name, 'Storefront Web App | with a long name');
        assert.equal(byKind[kind].count, 1);
        assert.deepEqual(byKind[kind].user_agents, [CHROME]);
      }
      assert.deepEqual(byKind.browser.sdks, [{ name: 'auth0.js', version: '9.23.0' }]);
      assert.match(byKind.browser.fix, /backend/);
      assert.deepEqual(byKind.login_page.sdks, [{ name: 'lock.js-ulp', version: '12.0.2' }]);
      assert.match(byKind.login_page.fix, /config\.internalOptions/);
      for (const a of doc.applications) assert.ok(![compliant.client.client_id, spa.client.client_id].includes(a.client_id));
    });

    it('the default table and --markdown show the same entries, names in full; exit 1', async () => {
      const table = await cli(['migration-report', ...conn], env);
      assert.equal(table.code, 1, table.stderr);
      assert.match(table.stdout, /^Not ready: 4 unauthenticated/);
      assert.ok(table.stdout.includes('Legacy Backend Service (node-auth0 v3)'));
      assert.ok(table.stdout.includes('Storefront Web App | with a long name'));
      assert.equal(table.stdout.match(/regular_web\s+(backend|browser|login_page)\s/g)?.length, 3);
      assert.match(table.stdout, /Fix: Upgrade node-auth0/);
      assert.match(table.stdout, /Fix: Forward config\.internalOptions/);
      assert.ok(!table.stdout.includes('Compliant Backend') && !table.stdout.includes('Single Page App'));

      const md = await cli(['migration-report', ...conn, '--markdown'], env);
      assert.equal(md.code, 1, md.stderr);
      const rows = md.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Application'));
      assert.equal(rows.length, 3);
      assert.ok(rows.some((r) => r.includes('Storefront Web App \\| with a long name') && r.includes('| login_page |')));
      assert.ok(rows.some((r) => r.includes(`| ${legacy.client.client_id} | regular_web | backend | 2 |`)));
    });

    it('a window without notices is ready (exit 0), also from the local configuration', async () => {
      const run = await cli(['migration-report', ...conn, '--since', afterCalls, '--json'], env);
      assert.equal(run.code, 0, run.stderr);
      const doc = JSON.parse(run.stdout);
      assert.deepEqual({ ready: doc.ready, total: doc.total, applications: doc.applications }, { ready: true, total: 0, applications: [] });
      assert.equal(doc.window.since, afterCalls);

      const local = await cli(['migration-report', '--since', '1h'], {
        ...env, SESAME_ISSUER: srv.issuer, SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret,
      });
      assert.equal(local.code, 1, local.stderr);
      assert.match(local.stdout, /^Not ready: 4 /);
    });

    it('errors exit 2 with a clear message: bad flags, wrong secret, untrusted certificate', async () => {
      const since = await cli(['migration-report', ...conn, '--since', 'yesterday'], env);
      assert.equal(since.code, 2);
      assert.match(since.stderr, /--since must be/);
      assert.equal(since.stdout, '');
      const flag = await cli(['migration-report', ...conn, '--bogus'], env);
      assert.equal(flag.code, 2);
      assert.match(flag.stderr, /--bogus/);
      const secret = await cli(['migration-report', '--domain', new URL(srv.issuer).host, '--client-id', MGMT.client_id, '--client-secret', 'wrong'], env);
      assert.equal(secret.code, 2);
      assert.match(secret.stderr, /Could not get a Management API token.*401/);
      assert.ok(!secret.stderr.includes(MGMT.client_secret));
      const token = await cli(['migration-report', '--domain', new URL(srv.issuer).host, '--token', 'not-a-token'], env);
      assert.equal(token.code, 2);
      assert.match(token.stderr, /401/);
      const untrusted = await cli(['migration-report', ...conn], {});
      assert.equal(untrusted.code, 2);
      assert.match(untrusted.stderr, /NODE_EXTRA_CA_CERTS/);
    });

    it('enforce refuses when not ready, --force --yes turns the flag on, --off --yes rolls back', async () => {
      const flag = async () => {
        const tok = await f(`${srv.baseUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${srv.issuer}api/v2/` }),
        });
        const { access_token } = (await tok.json()) as { access_token: string };
        const res = await f(`${srv.baseUrl}/api/v2/tenants/settings`, { headers: { authorization: `Bearer ${access_token}` } });
        return ((await res.json()) as { flags: Record<string, boolean> }).flags[FLAG];
      };
      const refused = await cli(['enforce', ...conn, '--yes'], env);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stdout, /Refused/);
      assert.equal(await flag(), false);

      const noTty = await cli(['enforce', ...conn, '--force'], env);
      assert.equal(noTty.code, 2);
      assert.match(noTty.stderr, /--yes/);
      assert.equal(await flag(), false);

      const forced = await cli(['enforce', ...conn, '--force', '--yes'], env);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /Enforcement turned on/);
      assert.equal(await flag(), true);
      const blocked = await start(legacy, {});
      assert.equal(blocked.status, 403);
      assert.deepEqual(await blocked.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
      assert.equal((await start(compliant, {}, { client_secret: compliant.secret })).status, 200);

      const off = await cli(['enforce', ...conn, '--off', '--yes'], env);
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /Enforcement turned off/);
      assert.equal(await flag(), false);
      assert.equal((await start(legacy, {})).status, 200);

      // Ready (no notice since the given time): enforce turns it on without --force.
      const since = new Date(Date.now() + 5).toISOString();
      await new Promise((r) => setTimeout(r, 10));
      const ready = await cli(['enforce', ...conn, '--since', since, '--yes'], env);
      assert.equal(ready.code, 0, ready.stderr);
      assert.match(ready.stdout, /^Ready: /);
      assert.equal(await flag(), true);
      assert.equal((await cli(['enforce', ...conn, '--off', '--yes'], env)).code, 0);
      assert.equal(await flag(), false);
    });
  });
}
