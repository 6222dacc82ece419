import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmtCall } from '../helpers/management.ts';

/**
 * Auth0's migration, end to end over HTTP (spec §2.1): a backend starts passwordless without
 * authenticating → the operator finds the depnote with the documented query → fixes the caller →
 * turns the flag on → the non-compliant call is refused, the fixed one keeps working.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`the confidential-client migration [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);

    it('goes from depnote to enforcement without breaking the fixed caller', async () => {
      const legacy = await createClient(ctx.server, { app_type: 'regular_web', name: 'Legacy Backend' });
      const email = uniqueEmail('mig');
      const unauthenticated = { client_id: legacy.client.client_id, connection: 'email', email, send: 'code' };

      // 1. Flag off (the default): the call works and leaves a deprecation notice.
      const settings = await mgmtCall(ctx.server, 'GET', '/tenants/settings');
      assert.equal(settings.status, 200);
      assert.equal(settings.json.flags.enforce_client_authentication_on_passwordless_start, false);
      assert.equal((await ctx.server.post('/passwordless/start', unauthenticated)).status, 200);
      await ctx.sink.waitFor((m) => m.to.includes(email));

      // 2. The operator's query finds it.
      const q = encodeURIComponent('type:depnote AND description:*passwordless*');
      const found = await mgmtCall(ctx.server, 'GET', `/logs?q=${q}&include_totals=true`);
      assert.equal(found.status, 200);
      const mine = found.json.logs.filter((l: any) => l.client_id === legacy.client.client_id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].client_name, 'Legacy Backend');
      assert.equal(mine[0].details.feature.id, 'enforce_client_authentication_on_passwordless_start');

      // 3. Flag on: the same call is refused, and no code or mail is produced.
      assert.equal((await mgmtCall(ctx.server, 'PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: true } })).status, 200);
      const before = await ctx.server.services.store.countOutbox('pending') + (await ctx.server.services.store.countOutbox('sent'));
      const refused = await ctx.server.post('/passwordless/start', { ...unauthenticated, email: uniqueEmail('refused') });
      assert.equal(refused.status, 403);
      assert.deepEqual(await refused.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
      const afterCount = await ctx.server.services.store.countOutbox('pending') + (await ctx.server.services.store.countOutbox('sent'));
      assert.equal(afterCount, before, 'nothing was enqueued');
      const depnotes = await mgmtCall(ctx.server, 'GET', `/logs?q=${q}&include_totals=true`);
      assert.equal(depnotes.json.logs.filter((l: any) => l.client_id === legacy.client.client_id).length, 1, 'a refused call is not another depnote');

      // 4. The fixed caller (with its secret) and public apps keep working.
      const fixed = await ctx.server.post('/passwordless/start', { ...unauthenticated, client_secret: legacy.secret });
      assert.equal(fixed.status, 200);
      const spa = await createClient(ctx.server, { app_type: 'spa' });
      assert.equal((await ctx.server.post('/passwordless/start', { client_id: spa.client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' })).status, 200);

      // 5. Turning the flag off again takes effect on the next request.
      await mgmtCall(ctx.server, 'PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: false } });
      assert.equal((await ctx.server.post('/passwordless/start', unauthenticated)).status, 200);
    });
  });
}
