import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

/**
 * Auth0's migration, end to end over HTTP (spec §2.1): a backend starts passwordless without
 * authenticating → the operator finds the depnote with the documented query → fixes the caller →
 * turns the flag on → the non-compliant call is refused, the fixed one keeps working.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`the confidential-client migration [${backend}]`, { skip }, () => {
    let server: TestServer;
    let sink: SmtpSink;
    before(async () => {
      sink = await startSmtpSink();
      server = await bootServer({ backend, env: { SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50', SESAME_START_LIMIT_PER_HOUR: '0' } });
    });
    after(async () => {
      await server?.close();
      await sink?.close();
    });

    const mgmt = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${await server.mgmtToken()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as any };
    };

    it('goes from depnote to enforcement without breaking the fixed caller', async () => {
      const legacy = await createClient(server, { app_type: 'regular_web', name: 'Legacy Backend' });
      const email = uniqueEmail('mig');
      const unauthenticated = { client_id: legacy.client.client_id, connection: 'email', email, send: 'code' };

      // 1. Flag off (the default): the call works and leaves a deprecation notice.
      const settings = await mgmt('GET', '/tenants/settings');
      assert.equal(settings.status, 200);
      assert.equal(settings.json.flags.enforce_client_authentication_on_passwordless_start, false);
      assert.equal((await server.post('/passwordless/start', unauthenticated)).status, 200);
      await sink.waitFor((m) => m.to.includes(email));

      // 2. The operator's query finds it.
      const q = encodeURIComponent('type:depnote AND description:*passwordless*');
      const found = await mgmt('GET', `/logs?q=${q}&include_totals=true`);
      assert.equal(found.status, 200);
      const mine = found.json.logs.filter((l: any) => l.client_id === legacy.client.client_id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].client_name, 'Legacy Backend');
      assert.equal(mine[0].details.feature.id, 'enforce_client_authentication_on_passwordless_start');

      // 3. Flag on: the same call is refused, and no code or mail is produced.
      assert.equal((await mgmt('PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: true } })).status, 200);
      const before = await server.services.store.countOutbox('pending') + (await server.services.store.countOutbox('sent'));
      const refused = await server.post('/passwordless/start', { ...unauthenticated, email: uniqueEmail('refused') });
      assert.equal(refused.status, 403);
      assert.deepEqual(await refused.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
      const afterCount = await server.services.store.countOutbox('pending') + (await server.services.store.countOutbox('sent'));
      assert.equal(afterCount, before, 'nothing was enqueued');
      const depnotes = await mgmt('GET', `/logs?q=${q}&include_totals=true`);
      assert.equal(depnotes.json.logs.filter((l: any) => l.client_id === legacy.client.client_id).length, 1, 'a refused call is not another depnote');

      // 4. The fixed caller (with its secret) and public apps keep working.
      const fixed = await server.post('/passwordless/start', { ...unauthenticated, client_secret: legacy.secret });
      assert.equal(fixed.status, 200);
      const spa = await createClient(server, { app_type: 'spa' });
      assert.equal((await server.post('/passwordless/start', { client_id: spa.client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' })).status, 200);

      // 5. Turning the flag off again takes effect on the next request.
      await mgmt('PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: false } });
      assert.equal((await server.post('/passwordless/start', unauthenticated)).status, 200);
    });
  });
}
