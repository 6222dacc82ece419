import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AuthenticationClient, type SendEmailRequest } from 'auth0';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, rsaKeyPair, uniqueEmail } from '../helpers/fixtures.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

/**
 * The official node-auth0 v4 AuthenticationClient, unchanged, against Sesame over HTTPS (spec §8.1).
 * The SDK checks every ID token itself (N4 id-token-validator: RS256 via the JWKS, `iss` ===
 * `https://{domain}/`, `aud`, `nonce`), so a successful login here is the compatibility proof.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`node-auth0 AuthenticationClient passwordless [${backend}]`, { skip }, () => {
    let server: TestServer;
    let sink: SmtpSink;
    let domain: string;
    let sdkTransport: { fetch: typeof fetch; agent: never };
    before(async () => {
      const cert = await makeTestCert();
      sink = await startSmtpSink();
      server = await bootServer({
        backend,
        env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath, SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50', SESAME_START_LIMIT_PER_HOUR: '0' },
      });
      // The server derives https://localhost:<port>/ itself after binding port 0 with TLS configured.
      domain = new URL(server.issuer).host;
      assert.equal(server.issuer, `https://${domain}/`);
      // Requests go through `fetch`; the SDK's JWKS fetch (jose 4, node:https) through `agent`.
      sdkTransport = { fetch: trustedFetch(cert.ca), agent: new Agent({ ca: cert.ca }) as never };
    });
    after(async () => {
      await server?.close();
      await sink?.close();
    });

    async function mailedCode(email: string): Promise<string> {
      return extractCode(await sink.waitFor((m) => m.to === email));
    }
    /** Independent check of the SDK's verdict: jose 6 against the published JWKS, over the same TLS trust. */
    async function verifyIdToken(idToken: string, clientId: string, nonce?: string) {
      const jwks = createRemoteJWKSet(new URL(`${server.issuer}.well-known/jwks.json`), { [customFetch]: sdkTransport.fetch });
      const { payload, protectedHeader } = await jwtVerify(idToken, jwks, { issuer: server.issuer, audience: clientId, algorithms: ['RS256'] });
      assert.ok(protectedHeader.kid);
      if (nonce !== undefined) assert.equal(payload.nonce, nonce);
      return payload;
    }

    it('sendEmail + loginWithEmail with client_secret: the SDK validates the ID token (iss, RS256, aud, no nonce)', async () => {
      const { client_id, client_secret } = server.defaultApp;
      const auth0 = new AuthenticationClient({ domain, clientId: client_id, clientSecret: client_secret, ...sdkTransport });
      const email = uniqueEmail('sdk');
      await auth0.passwordless.sendEmail({ email, send: 'code' });
      const { data, status } = await auth0.passwordless.loginWithEmail({ email, code: await mailedCode(email), scope: 'openid email' });
      assert.equal(status, 200);
      assert.equal(data.token_type, 'Bearer');
      assert.equal(typeof data.access_token, 'string');
      // The SDK refuses an ID token carrying a nonce it did not send; jose double-checks the rest.
      const claims = await verifyIdToken(data.id_token!, client_id);
      assert.deepEqual([claims.email, claims.email_verified, claims.nonce], [email, true, undefined]);
      // Spec §8.5: the SDK's Auth0-Client telemetry reaches the success log.
      const logs = await server.services.store.logsAfter(null, 100_000);
      assert.equal(logs.find((l) => l.type === 's' && l.user_name === email)?.auth0_client?.name, 'node-auth0');
    });

    // The v4 typings declare neither `authParams` for code emails nor `nonce` in loginWithEmail's
    // options, but the runtime forwards both (passwordless.js spreads the body; grant() hands
    // idTokenValidateOptions to the validator): the nonce given at start must come back (OIDC §3.1.2.1).
    const withNonce = (email: string, nonce: string) => ({ email, send: 'code', authParams: { nonce } }) as unknown as SendEmailRequest;
    const expecting = (nonce: string) => ({ idTokenValidateOptions: { nonce } }) as Parameters<AuthenticationClient['passwordless']['loginWithEmail']>[1];

    it('returns the nonce given at start, and the SDK rejects a token whose nonce it did not expect', async () => {
      const { client_id, client_secret } = server.defaultApp;
      const auth0 = new AuthenticationClient({ domain, clientId: client_id, clientSecret: client_secret, ...sdkTransport });
      const email = uniqueEmail('sdk-nonce');
      const nonce = randomUUID();
      await auth0.passwordless.sendEmail(withNonce(email, nonce));
      const { data } = await auth0.passwordless.loginWithEmail({ email, code: await mailedCode(email), scope: 'openid' }, expecting(nonce));
      assert.equal((await verifyIdToken(data.id_token!, client_id, nonce)).nonce, nonce);
      const other = uniqueEmail('sdk-nonce');
      await auth0.passwordless.sendEmail(withNonce(other, 'the-nonce-sent'));
      await assert.rejects(
        auth0.passwordless.loginWithEmail({ email: other, code: await mailedCode(other), scope: 'openid' }, expecting('another-nonce')),
        /Nonce \(nonce\) claim mismatch/,
      );
    });

    it('works with private_key_jwt (clientAssertionSigningKey) for both calls', async () => {
      const { publicPem, privatePem } = rsaKeyPair();
      const now = new Date().toISOString();
      const { client } = await createClient(server, {
        app_type: 'regular_web',
        token_endpoint_auth_method: null,
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: `cred_${randomUUID()}`, credential_type: 'public_key', pem: publicPem, alg: 'RS256', created_at: now, updated_at: now }] } },
      });
      const auth0 = new AuthenticationClient({ domain, clientId: client.client_id, clientAssertionSigningKey: privatePem, ...sdkTransport });
      const email = uniqueEmail('sdk-pkjwt');
      await auth0.passwordless.sendEmail({ email, send: 'code' });
      const { data } = await auth0.passwordless.loginWithEmail({ email, code: await mailedCode(email), scope: 'openid email' });
      const claims = await verifyIdToken(data.id_token!, client.client_id);
      assert.equal(claims.email, email);
      // Without the registered key the same SDK call is refused (spec §3.3: 401 access_denied).
      const stranger = new AuthenticationClient({ domain, clientId: client.client_id, clientAssertionSigningKey: rsaKeyPair().privatePem, ...sdkTransport });
      await assert.rejects(stranger.passwordless.loginWithEmail({ email, code: '123456' }), (err: { statusCode?: number; error?: string }) => {
        assert.deepEqual([err.statusCode, err.error], [401, 'access_denied']);
        return true;
      });
    });

    it('surfaces a wrong code as invalid_grant / "Wrong email or verification code." to SDK callers', async () => {
      const { client_id, client_secret } = server.defaultApp;
      const auth0 = new AuthenticationClient({ domain, clientId: client_id, clientSecret: client_secret, ...sdkTransport });
      const email = uniqueEmail('sdk-wrong');
      await auth0.passwordless.sendEmail({ email, send: 'code' });
      const code = await mailedCode(email);
      await assert.rejects(auth0.passwordless.loginWithEmail({ email, code: code === '000000' ? '111111' : '000000' }), (err: Record<string, unknown>) => {
        assert.equal(err.name, 'AuthApiError');
        assert.deepEqual([err.statusCode, err.error, err.error_description], [403, 'invalid_grant', 'Wrong email or verification code.']);
        return true;
      });
    });
  });
}
