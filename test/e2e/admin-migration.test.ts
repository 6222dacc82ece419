import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { cli } from '../helpers/cli.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

const FLAG = 'enforce_client_authentication_on_passwordless_start';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const telemetry = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * Issue 12, Migration panel: GET /api/v2/sesame/migration computes in-process what
 * `sesame migration-report --json` reads over the Management API, with the same shared grouping.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`GET /api/v2/sesame/migration [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let legacy: { client: Client; secret: string };
    let web: { client: Client; secret: string };
    const start = (c: Client, headers: Record<string, string>, extra: object = {}) =>
      fetch(`${srv.baseUrl}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ client_id: c.client_id, connection: 'email', email: uniqueEmail(), send: 'code', ...extra }),
      });

    before(async () => {
      srv = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0' } });
      legacy = await createClient(srv, { app_type: 'regular_web', name: 'Legacy Backend' });
      web = await createClient(srv, { app_type: 'regular_web', name: 'Storefront' });
    });
    after(() => srv?.close());

    it('ready with no notices; then one entry per application and kind of caller, with the fix', async () => {
      const empty = await mgmt(srv, 'GET', '/sesame/migration');
      assert.deepEqual([empty.ready, empty.callers_left, empty.total, empty.applications, empty[FLAG]], [true, 0, 0, [], false]);

      for (const r of await Promise.all([
        start(legacy.client, { 'auth0-client': telemetry({ name: 'node-auth0', version: '3.7.2' }), 'user-agent': 'node-superagent/3.8.3' }),
        start(legacy.client, { 'auth0-client': telemetry({ name: 'node-auth0', version: '3.7.2' }), 'user-agent': 'node-superagent/3.8.3' }),
        start(web.client, { 'auth0-client': telemetry({ name: 'auth0.js', version: '9.23.0' }), 'user-agent': CHROME }),
        start(web.client, {}, { client_secret: web.secret }), // compliant: no notice
      ])) assert.equal(r.status, 200);

      const report = await mgmt(srv, 'GET', '/sesame/migration?days=7');
      assert.deepEqual([report.ready, report.callers_left, report.total, report[FLAG]], [false, 2, 3, false]);
      const [first, second] = report.applications;
      assert.deepEqual(
        [first.client_id, first.client_name, first.app_type, first.classification, first.count, first.sdks, first.user_agents, first.ips.length],
        [legacy.client.client_id, 'Legacy Backend', 'regular_web', 'backend', 2, [{ name: 'node-auth0', version: '3.7.2' }], ['node-superagent/3.8.3'], 1],
      );
      assert.match(first.fix, /Upgrade node-auth0/);
      assert.deepEqual([second.client_id, second.classification, second.count], [web.client.client_id, 'browser', 1]);
      assert.match(second.fix, /backend/);
      assert.ok(Date.parse(first.first_seen) <= Date.parse(first.last_seen));
      assert.ok(Date.parse(report.window.until) - Date.parse(report.window.since) === 7 * 86_400_000);

      await mgmt(srv, 'PATCH', '/tenants/settings', { flags: { [FLAG]: true } });
      assert.equal((await mgmt(srv, 'GET', '/sesame/migration'))[FLAG], true, 'the switch\'s current value');
      await mgmt(srv, 'PATCH', '/tenants/settings', { flags: { [FLAG]: false } });
    });

    it('answers what `sesame migration-report --json` prints for the same window', { skip: backend !== 'sqlite' && 'the CLI speaks HTTP only: once is enough' }, async () => {
      const env = { PATH: process.env.PATH ?? '', SESAME_ISSUER: srv.issuer, SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret };
      const run = await cli(['migration-report', '--json', '--since', '30d'], env);
      assert.equal(run.code, 1, run.stderr);
      const fromCli = JSON.parse(run.stdout) as { ready: boolean; total: number; applications: unknown[] };
      const fromApi = await mgmt(srv, 'GET', '/sesame/migration?days=30');
      assert.deepEqual([fromApi.ready, fromApi.total, fromApi.applications], [fromCli.ready, fromCli.total, fromCli.applications]);
    });

    it('days is validated; read:logs is required', async () => {
      for (const q of ['days=0', 'days=366', 'days=x', 'since=30d']) assert.equal((await mgmtCall(srv, 'GET', `/sesame/migration?${q}`)).status, 400, q);
      assert.equal((await fetch(`${srv.baseUrl}/api/v2/sesame/migration`)).status, 401);
    });
  });
}
