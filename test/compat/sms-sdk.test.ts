import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AuthenticationClient } from 'auth0';
import { backendMatrix } from '../helpers/backends.ts';
import { codeFromSms } from '../helpers/sms-servers.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';
import { type TestCert, makeTestCert, trustedFetch } from '../helpers/tls.ts';

/**
 * Issue 5 tests: the official node-auth0 v4 AuthenticationClient, unchanged, signs a user in by SMS
 * (`passwordless.sendSMS` then `loginWithSMS`) over HTTPS. The SDK validates the ID token itself
 * (RS256 via the JWKS, iss, aud), so a resolved login is the compatibility proof.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`node-auth0 passwordless SMS [${backend}]`, { skip }, () => {
    let cert: TestCert;
    const plainFetch = globalThis.fetch;
    const t = useSmsTenant(backend, async () => {
      cert = await makeTestCert();
      // The suite's own Management API calls (test/helpers/management.ts) use the global fetch: in
      // this file it trusts the test certificate for https, and plain http (the Twilio double) is untouched.
      const trusted = trustedFetch(cert.ca);
      globalThis.fetch = (input, init) => (String(input instanceof Request ? input.url : input).startsWith('https:') ? trusted(input, init) : plainFetch(input, init));
      return { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath };
    });
    after(() => {
      globalThis.fetch = plainFetch;
    });
    let sdk: (clientId: string, clientSecret?: string) => AuthenticationClient;
    before(async () => {
      await t.connection('sms', t.twilioOptions({ fraud_guards: { per_prefix: { max: 1000 } } }));
      const domain = new URL(t.server.issuer).host;
      const transport = { fetch: trustedFetch(cert.ca), agent: new Agent({ ca: cert.ca }) as never };
      sdk = (clientId, clientSecret) => new AuthenticationClient({ domain, clientId, ...(clientSecret ? { clientSecret } : {}), ...transport });
    });

    it('sendSMS + loginWithSMS for a confidential app (with its secret): tokens, phone claims, no depnote', async () => {
      const { client_id, client_secret } = t.server.defaultApp;
      const auth0 = sdk(client_id, client_secret);
      const phone = uniquePhone();
      await auth0.passwordless.sendSMS({ phone_number: phone });
      const code = codeFromSms(t.twilio.messages.at(-1)!.body);
      const { data, status } = await auth0.passwordless.loginWithSMS({ phone_number: phone, code, scope: 'openid phone offline_access' } as never);
      assert.equal(status, 200);
      assert.equal(data.token_type, 'Bearer');
      assert.ok(data.id_token && data.access_token);
      const claims = JSON.parse(Buffer.from(data.id_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.phone_number, phone);
      assert.equal(claims.phone_verified, true);
      assert.equal((await t.logs('depnote', (l) => l.client_id === client_id)).length, 0);
    });

    it('a wrong code is the SDK error Auth0 gives, and the right one still works after it', async () => {
      // node-auth0 is a backend SDK: it refuses to call without a client secret or assertion.
      const auth0 = sdk(t.server.defaultApp.client_id, t.server.defaultApp.client_secret);
      const phone = uniquePhone();
      await auth0.passwordless.sendSMS({ phone_number: phone });
      const code = codeFromSms(t.twilio.messages.at(-1)!.body);
      await assert.rejects(auth0.passwordless.loginWithSMS({ phone_number: phone, code: code === '000000' ? '111111' : '000000' }), (err: any) => {
        assert.equal(err.statusCode, 403);
        assert.equal(err.body ? JSON.parse(err.body).error_description : err.error_description, 'Wrong phone number or verification code.');
        return true;
      });
      const { status } = await auth0.passwordless.loginWithSMS({ phone_number: phone, code });
      assert.equal(status, 200);
    });

    it('surfaces a provider failure as the SDK error Auth0 gives (400 sms_provider_error)', async () => {
      const auth0 = sdk(t.server.defaultApp.client_id, t.server.defaultApp.client_secret);
      t.twilio.fail({ status: 401, code: 20003 });
      await assert.rejects(auth0.passwordless.sendSMS({ phone_number: uniquePhone() }), (err: any) => {
        assert.equal(err.statusCode, 400);
        const body = JSON.parse(err.body);
        assert.deepEqual(body, { error: 'sms_provider_error', error_description: 'Authenticate (Code: 20003)' });
        return true;
      });
    });
  });
}
