import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AuthenticationClient } from 'auth0';
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify } from 'jose';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { authorizationCode, pkcePair, tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient } from '../helpers/fixtures.ts';

const INVALID_CODE = { error: 'invalid_grant', error_description: 'Invalid authorization code' };
const BAD_VERIFIER = { error: 'invalid_grant', error_description: 'Failed to verify code verifier' };
const CALLBACK = 'https://app.example.com/callback';

/**
 * The authorization_code grant (RFC 6749 §4.1.3, RFC 7636) over HTTPS against the real server: codes
 * come from the real /authorize (SSO from a login session minted by the real core), confidential
 * clients redeem them with the official node-auth0 SDK, public ones with a plain form POST.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`authorization_code grant [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let f: typeof fetch;
    let ca: string;
    let skew = 0;
    let web: { client: Client; secret: string };
    let spa: { client: Client; secret: string };
    before(async () => {
      const tls = await tlsSetup();
      ({ fetch: f, ca } = tls);
      srv = await bootServer({ backend, env: tls.env, now: () => Date.now() + skew });
      const grants = ['authorization_code', 'refresh_token'];
      web = await createClient(srv, { app_type: 'regular_web', callbacks: [CALLBACK, 'https://app.example.com/other'], grant_types: grants });
      spa = await createClient(srv, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types: grants });
    });
    after(() => srv?.close());

    const sdk = (c: { client: Client; secret: string }) =>
      new AuthenticationClient({ domain: new URL(srv.issuer).host, clientId: c.client.client_id, clientSecret: c.secret, fetch: f, agent: new Agent({ ca }) as never });
    const jwks = () => createRemoteJWKSet(new URL(`${srv.issuer}.well-known/jwks.json`), { [customFetch]: f });
    const redeem = (c: { client: Client; secret?: string }, code: string, extra: Record<string, string> = {}) =>
      tokenRequest(srv, f, { grant_type: 'authorization_code', client_id: c.client.client_id, ...(c.secret ? { client_secret: c.secret } : {}), code, ...extra });
    const logs = async (type: string) => (await srv.services.store.logsAfter(null, 100_000)).filter((l) => l.type === type);

    it('confidential client: the SDK redeems a code and validates the ID token (nonce, sid, auth_time)', async () => {
      const nonce = 'n-0S6_WzA2Mj';
      const { code, redirectUri, session } = await authorizationCode(srv, f, web.client, { nonce, scope: 'openid email profile' });
      const { data } = await sdk(web).oauth.authorizationCodeGrant({ code, redirect_uri: redirectUri }, { idTokenValidateOptions: { nonce } } as never);
      assert.equal(data.token_type, 'Bearer');
      assert.equal(data.refresh_token, undefined, 'no offline_access, no refresh token');
      const { payload } = await jwtVerify(data.id_token!, jwks(), { issuer: srv.issuer, audience: web.client.client_id });
      assert.deepEqual([payload.nonce, payload.sid, payload.sub, payload.email], [nonce, session.sid, session.userId, session.email]);
      assert.equal(typeof payload.auth_time, 'number');
      assert.equal(decodeJwt(data.access_token).scope, 'openid email profile');
      const ok = (await logs('seacft')).find((l) => l.user_id === session.userId);
      assert.deepEqual([ok?.client_id, ok?.connection, ok?.user_name], [web.client.client_id, 'email', session.email]);
    });

    it('confidential client with PKCE: authorizationCodeGrantWithPKCE', async () => {
      const { code, verifier, redirectUri } = await authorizationCode(srv, f, web.client, { pkce: true });
      const { data } = await sdk(web).oauth.authorizationCodeGrantWithPKCE({ code, code_verifier: verifier!, redirect_uri: redirectUri });
      assert.equal(typeof data.access_token, 'string');
    });

    it('public client: PKCE alone binds the code (no secret), JSON or form', async () => {
      const a = await authorizationCode(srv, f, spa.client, { pkce: true });
      const res = await redeem(spa, a.code, { code_verifier: a.verifier!, redirect_uri: a.redirectUri });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.token_type, 'Bearer');
      await jwtVerify(String(res.body.id_token), jwks(), { issuer: srv.issuer, audience: spa.client.client_id });

      const b = await authorizationCode(srv, f, spa.client, { pkce: true });
      const json = await f(`${srv.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'authorization_code', client_id: spa.client.client_id, code: b.code, code_verifier: b.verifier }),
      });
      assert.equal(json.status, 200);
      assert.equal(json.headers.get('cache-control'), 'no-store');
    });

    it('a confidential client must authenticate even with PKCE', async () => {
      const a = await authorizationCode(srv, f, web.client, { pkce: true });
      const res = await redeem({ client: web.client }, a.code, { code_verifier: a.verifier! });
      assert.deepEqual([res.status, res.body], [401, { error: 'access_denied', error_description: 'Unauthorized' }]);
      const wrong = await redeem({ client: web.client, secret: 'not-the-secret' }, a.code, { code_verifier: a.verifier! });
      assert.equal(wrong.status, 401);
      assert.equal((await redeem(web, a.code, { code_verifier: a.verifier! })).status, 200, 'the code survived both');
    });

    it('PKCE: a wrong, missing or unexpected verifier fails without spending the code', async () => {
      const a = await authorizationCode(srv, f, spa.client, { pkce: true });
      const other = pkcePair().verifier;
      for (const extra of [{ code_verifier: other }, {}] as Record<string, string>[]) {
        const res = await redeem(spa, a.code, extra);
        assert.deepEqual([res.status, res.body], [403, BAD_VERIFIER]);
      }
      const malformed = await redeem(spa, a.code, { code_verifier: 'short' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error, 'invalid_request');
      assert.equal((await redeem(spa, a.code, { code_verifier: a.verifier! })).status, 200);

      // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
      const plain = await authorizationCode(srv, f, web.client);
      const res = await redeem(web, plain.code, { code_verifier: other });
      assert.deepEqual([res.status, res.body], [403, BAD_VERIFIER]);
    });

    it('redirect_uri must be the one the code was issued for (RFC 6749 §4.1.3)', async () => {
      const a = await authorizationCode(srv, f, web.client);
      const res = await redeem(web, a.code, { redirect_uri: 'https://app.example.com/other' });
      assert.deepEqual([res.status, res.body], [403, { error: 'invalid_grant', error_description: 'Invalid redirect URI' }]);
      assert.equal((await redeem(web, a.code, { redirect_uri: CALLBACK })).status, 200);
    });

    it("another client's code is an invalid code, and stays usable by its owner", async () => {
      const a = await authorizationCode(srv, f, spa.client, { pkce: true });
      const res = await redeem(web, a.code, { code_verifier: a.verifier! });
      assert.deepEqual([res.status, res.body], [403, INVALID_CODE]);
      assert.equal((await redeem(spa, a.code, { code_verifier: a.verifier! })).status, 200);
    });

    it('a replayed code is refused and the refresh tokens issued from it are revoked (RFC 6749 §4.1.2)', async () => {
      const a = await authorizationCode(srv, f, web.client, { scope: 'openid offline_access' });
      const first = await redeem(web, a.code);
      assert.equal(first.status, 200, first.text);
      const rt = String(first.body.refresh_token);
      assert.ok(rt.length >= 43);
      const again = await redeem(web, a.code);
      assert.deepEqual([again.status, again.body], [403, INVALID_CODE]);
      const refresh = await tokenRequest(srv, f, { grant_type: 'refresh_token', client_id: web.client.client_id, client_secret: web.secret, refresh_token: rt });
      assert.equal(refresh.status, 403);
      assert.equal(refresh.text, '{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}');
      const failed = (await logs('feacft')).find((l) => (l.details as { replay_detected?: boolean })?.replay_detected);
      assert.equal((failed?.details as { revoked_refresh_tokens: number }).revoked_refresh_tokens, 1);
    });

    it('concurrent redemptions: exactly one wins', async () => {
      const a = await authorizationCode(srv, f, web.client);
      const all = await Promise.all(Array.from({ length: 6 }, () => redeem(web, a.code)));
      assert.deepEqual(all.map((r) => r.status).sort(), [200, 403, 403, 403, 403, 403]);
    });

    it('a replay racing the first exchange never leaves a refresh token alive', async () => {
      for (let round = 0; round < 8; round++) {
        const a = await authorizationCode(srv, f, web.client, { scope: 'openid offline_access' });
        const all = await Promise.all(Array.from({ length: 4 }, () => redeem(web, a.code)));
        assert.ok(all.filter((r) => r.status === 200).length <= 1);
        for (const r of all.filter((x) => typeof x.body.refresh_token === 'string')) {
          const refresh = await tokenRequest(srv, f, { grant_type: 'refresh_token', client_id: web.client.client_id, client_secret: web.secret, refresh_token: String(r.body.refresh_token) });
          assert.equal(refresh.status, 403, `round ${round}: a refresh token from a replayed code still works`);
        }
      }
    });

    it('an expired code (5 minutes) is an invalid code', async () => {
      const a = await authorizationCode(srv, f, web.client);
      skew = 5 * 60_000 + 1_000;
      try {
        assert.deepEqual((await redeem(web, a.code)).body, INVALID_CODE);
      } finally {
        skew = 0;
      }
    });

    it('unknown codes, missing parameters and blocked users', async () => {
      assert.deepEqual((await redeem(web, 'x'.repeat(43))).body, INVALID_CODE);
      const missing = await redeem(web, '');
      assert.deepEqual([missing.status, missing.body], [400, { error: 'invalid_request', error_description: 'Missing required parameter: code' }]);
      const a = await authorizationCode(srv, f, web.client);
      const user = (await srv.services.store.getUser(a.session.userId))!;
      await srv.services.store.updateUser({ ...user, blocked: true });
      const res = await redeem(web, a.code);
      assert.deepEqual([res.status, res.body], [401, { error: 'unauthorized', error_description: 'user is blocked' }]);
    });

    it('a client without the authorization_code grant is refused', async () => {
      const a = await authorizationCode(srv, f, web.client);
      const m2m = await createClient(srv, { app_type: 'regular_web', grant_types: ['client_credentials'] });
      const res = await redeem(m2m, a.code);
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'unauthorized_client');
    });

    it('discovery advertises the grants, PKCE S256, web_message, revocation and logout', async () => {
      const d = (await (await f(`${srv.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(d.revocation_endpoint, `${srv.issuer}oauth/revoke`);
      assert.equal(d.end_session_endpoint, `${srv.issuer}v2/logout`);
      assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
      assert.ok((d.response_modes_supported as string[]).includes('web_message'));
      for (const g of ['authorization_code', 'refresh_token', 'implicit']) assert.ok((d.grant_types_supported as string[]).includes(g), g);
      assert.ok((d.scopes_supported as string[]).includes('offline_access'));
    });

    it('never answers bad input with a 5xx', async () => {
      for (const body of [{ code: ['a', 'b'] }, { code: 7 }, { code: 'a'.repeat(5_000) }, { code_verifier: { x: 1 } }, { redirect_uri: 3 }]) {
        const res = await f(`${srv.baseUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'authorization_code', client_id: web.client.client_id, client_secret: web.secret, code: 'abc', ...body }),
        });
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${JSON.stringify(body)}`);
      }
    });
  });
}
