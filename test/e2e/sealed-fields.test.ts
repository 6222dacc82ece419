import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/**
 * Issue 10 §3: the Management API never takes a storage-only `*_enc` field, and a ciphertext moved
 * to another row or purpose (from a backup, by hand) does not open there.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`sealed fields in Management API input [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(() => server?.close());

    const twilio = (extra: Record<string, unknown>) => ({ provider: 'twilio', twilio_sid: 'AC1', from: '+15005550006', ...extra });

    it('refuses *_enc fields anywhere in connection options, on create and update', async () => {
      const [key] = await server.services.store.listSigningKeys();
      const bodies = [
        twilio({ twilio_token_enc: key!.private_jwk_enc }),
        twilio({ twilio_token: 'x', gateway_authentication: { method: 'bearer', secret_enc: 'v2.abc.def.ghi.jkl' } }),
        { email: { body: 'x' }, nested: [{ anything_enc: 'v1.a.b.c' }] },
      ];
      for (const [i, options] of bodies.entries()) {
        const r = await mgmtCall(server, 'POST', '/connections', { name: `enc-${i}`, strategy: i === 2 ? 'email' : 'sms', options });
        assert.equal(r.status, 400, JSON.stringify(r.json));
        assert.equal(r.json.error, 'Bad Request');
        assert.match(r.json.message, /options\.\S+_enc is written by Sesame only/);
      }
      const conn = await mgmt(server, 'POST', '/connections', { name: 'enc-ok', strategy: 'sms', options: twilio({ twilio_token: 'plain-token' }) });
      const patch = await mgmtCall(server, 'PATCH', `/connections/${conn.id}`, { options: twilio({ twilio_token_enc: key!.private_jwk_enc }) });
      assert.equal(patch.status, 400);
      assert.match(patch.json.message, /options\.twilio_token_enc is written by Sesame only/);
    });

    it('a signing key\'s ciphertext written into a connection by hand does not open there', async () => {
      const [key] = await server.services.store.listSigningKeys();
      const conn = await mgmt(server, 'POST', '/connections', { name: 'copied', strategy: 'sms', options: twilio({ twilio_token: 'plain' }) });
      const stored = (await server.services.store.getConnection(conn.id))!;
      await server.services.store.updateConnection({ ...stored, options: { ...stored.options, twilio_token_enc: key!.private_jwk_enc } });
      const got = await mgmtCall(server, 'GET', `/connections/${conn.id}`);
      assert.equal(got.status, 200);
      const text = JSON.stringify(got.json);
      assert.ok(!/"d"|PRIVATE|_enc/.test(text), `neither the private key nor the ciphertext is shown: ${text}`);
      assert.equal(got.json.options.twilio_token, undefined);
    });
  });
}
