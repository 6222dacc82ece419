import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ManagementApiError, ManagementClient } from 'auth0';
import { type JSONWebKeySet, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { KEY_FRESHNESS_MS, KeyManager } from '../../src/core/keys.ts';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { authorizationCode, tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient } from '../helpers/fixtures.ts';

type Json = Record<string, any>;

/**
 * Auth0's signing-key lifecycle (issue 4 §4) against the real server over HTTPS: current + next in
 * the JWKS, rotation (tokens signed before keep verifying, with jose and at /userinfo), revocation
 * of the previous key (gone from the JWKS, its tokens refused), the Management API shape and scopes,
 * the official node-auth0 ManagementClient, and a second KeyManager on the same database standing
 * in for another process.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`signing keys [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let f: typeof fetch;
    let web: { client: Client; secret: string };
    before(async () => {
      const tls = await tlsSetup();
      f = tls.fetch;
      srv = await bootServer({ backend, env: tls.env });
      web = await createClient(srv, { app_type: 'regular_web', callbacks: ['https://app.example.com/callback'], grant_types: ['authorization_code'] });
    });
    after(() => srv?.close());

    /** A fresh all-scopes token per call: a revocation also ends the Management API tokens its key signed. */
    async function admin(): Promise<string> {
      const tok = await tokenRequest(srv, f, { grant_type: 'client_credentials', ...MGMT, audience: `${srv.issuer}api/v2/` });
      assert.equal(tok.status, 200, tok.text);
      return String(tok.body.access_token);
    }
    async function call(method: string, path: string, token?: string | null): Promise<{ status: number; body: any }> {
      if (token === undefined) token = await admin();
      const res = await f(`${srv.baseUrl}/api/v2${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    }
    /** A Management API token with only `scopes`, signed by the server's own key (as client_credentials would). */
    async function tokenWith(scopes: string[]): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return srv.services.keys.sign({ iss: srv.issuer, sub: `${MGMT.client_id}@clients`, aud: `${srv.issuer}api/v2/`, scope: scopes.join(' '), gty: 'client-credentials', iat: now, exp: now + 600 });
    }
    async function jwks(): Promise<JSONWebKeySet> {
      const res = await f(`${srv.issuer}.well-known/jwks.json`);
      assert.equal(res.status, 200);
      return (await res.json()) as JSONWebKeySet;
    }
    const kids = async () => (await jwks()).keys.map((k) => k.kid);
    /** A user's access token through the real /authorize + /oauth/token. */
    async function userToken(): Promise<string> {
      const { code, redirectUri } = await authorizationCode(srv, f, web.client);
      const res = await tokenRequest(srv, f, { grant_type: 'authorization_code', client_id: web.client.client_id, client_secret: web.secret, code, redirect_uri: redirectUri });
      assert.equal(res.status, 200, res.text);
      return String(res.body.access_token);
    }
    async function userinfo(token: string): Promise<number> {
      const res = await f(`${srv.issuer}userinfo`, { headers: { authorization: `Bearer ${token}` } });
      await res.body?.cancel();
      return res.status;
    }
    const keyList = async (): Promise<Json[]> => {
      const res = await call('GET', '/keys/signing');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const byRole = (keys: Json[], role: 'current' | 'next' | 'previous') => keys.filter((k) => k[role] === true);

    it('publishes current and next; lists them in Auth0 shape with a self-signed certificate', async () => {
      const keys = await keyList();
      assert.equal(keys.length, 2);
      const [cur] = byRole(keys, 'current');
      const [next] = byRole(keys, 'next');
      assert.ok(cur && next && cur.kid !== next.kid);
      assert.deepEqual((await kids()).sort(), [cur.kid, next.kid].sort());
      for (const k of keys) {
        const x = new X509Certificate(k.cert);
        const jwk = (await jwks()).keys.find((j) => j.kid === k.kid)!;
        assert.ok(x.verify(x.publicKey), 'self-signed');
        assert.deepEqual(x.publicKey.export({ format: 'jwk' }), { kty: 'RSA', n: jwk.n, e: jwk.e }, 'the certificate carries the published key');
        assert.equal(x.subject, `CN=${new URL(srv.issuer).host}`);
        assert.equal(k.fingerprint, x.fingerprint);
        assert.equal(k.thumbprint, x.fingerprint.replaceAll(':', ''));
        assert.match(k.cert, /^-----BEGIN CERTIFICATE-----\r\n/);
        assert.match(k.pkcs7, /^-----BEGIN PKCS7-----\r\n/);
        assert.equal(k.revoked, false);
        assert.equal(k.previous, false);
      }
      assert.ok(!Number.isNaN(Date.parse(cur.current_since)));
      assert.equal(next.current_since, undefined);
      const one = await call('GET', `/keys/signing/${cur.kid}`);
      assert.deepEqual(one, { status: 200, body: cur });
      const missing = await call('GET', '/keys/signing/no-such-kid');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.errorCode, 'inexistent_resource');
    });

    it('rotation: next becomes current, old tokens keep verifying, new tokens carry the new kid; revoke previous refuses them', async () => {
      const before = await keyList();
      const oldCur = byRole(before, 'current')[0]!.kid;
      const oldNext = byRole(before, 'next')[0]!.kid;
      const oldToken = await userToken();
      assert.equal(decodeProtectedHeader(oldToken).kid, oldCur);
      assert.equal(await userinfo(oldToken), 200);

      const rotated = await call('POST', '/keys/signing/rotate');
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
      assert.equal(rotated.body.kid, oldNext);
      assert.equal(new X509Certificate(rotated.body.cert).fingerprint, byRole(before, 'next')[0]!.fingerprint);

      const after = await keyList();
      assert.equal(byRole(after, 'current')[0]!.kid, oldNext);
      const prev = byRole(after, 'previous').find((k) => k.kid === oldCur)!;
      assert.ok(prev.current_until && Date.parse(prev.current_until) >= Date.parse(prev.current_since));
      const newNext = byRole(after, 'next')[0]!.kid;
      assert.ok(![oldCur, oldNext].includes(newNext));
      assert.deepEqual((await kids()).sort(), [oldCur, oldNext, newNext].sort());

      // The earlier token still verifies, against the published JWKS and at /userinfo.
      const set = createLocalJWKSet(await jwks());
      await jwtVerify(oldToken, set, { issuer: srv.issuer, algorithms: ['RS256'] });
      assert.equal(await userinfo(oldToken), 200);
      const newToken = await userToken();
      assert.equal(decodeProtectedHeader(newToken).kid, oldNext);
      await jwtVerify(newToken, set, { issuer: srv.issuer });

      // Auth0 refuses revoking the current or the next key.
      for (const kid of [oldNext, newNext]) {
        const refused = await call('PUT', `/keys/signing/${kid}/revoke`);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.statusCode, 400);
        assert.match(refused.body.message, /cannot be revoked/);
      }
      assert.equal((await call('PUT', '/keys/signing/no-such-kid/revoke')).status, 404);

      const revoked = await call('PUT', `/keys/signing/${oldCur}/revoke`);
      assert.deepEqual(revoked, { status: 200, body: { cert: prev.cert, kid: oldCur } });
      assert.deepEqual((await kids()).sort(), [oldNext, newNext].sort());
      assert.equal(await userinfo(oldToken), 401);
      await assert.rejects(jwtVerify(oldToken, createLocalJWKSet(await jwks())), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
      assert.equal(await userinfo(newToken), 200);
      const shown = (await call('GET', `/keys/signing/${oldCur}`)).body;
      assert.equal(shown.revoked, true);
      assert.ok(Date.parse(shown.revoked_at) > 0);
      assert.equal(shown.previous, false);
      // Revoking it again changes nothing.
      assert.equal((await call('PUT', `/keys/signing/${oldCur}/revoke`)).status, 200);
    });

    it('enforces scopes (401 without a token, 403 insufficient_scope)', async () => {
      const reader = await tokenWith(['read:signing_keys']);
      assert.equal((await call('GET', '/keys/signing', reader)).status, 200);
      const denied = await call('POST', '/keys/signing/rotate', reader);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.errorCode, 'insufficient_scope');
      const anyKid = (await keyList())[0]!.kid;
      assert.equal((await call('PUT', `/keys/signing/${anyKid}/revoke`, reader)).status, 403);
      const other = await tokenWith(['read:clients']);
      assert.equal((await call('GET', '/keys/signing', other)).status, 403);
      assert.equal((await call('GET', `/keys/signing/${anyKid}`, other)).status, 403);
      assert.equal((await call('GET', '/keys/signing', null)).status, 401);
    });

    it('another process on the same database sees a rotation within KEY_FRESHNESS_MS', async () => {
      const other = new KeyManager(srv.services.store, srv.services.keyring);
      await other.init();
      const rotated = await call('POST', '/keys/signing/rotate');
      assert.equal(rotated.status, 201);
      await sleep(KEY_FRESHNESS_MS + 50);
      const token = await other.sign({ sub: 'x' });
      assert.equal(decodeProtectedHeader(token).kid, rotated.body.kid);
      assert.ok(other.jwks().keys.some((k) => k.kid === rotated.body.kid));
      // Starting another process adds no second next key.
      assert.equal(byRole(await keyList(), 'next').length, 1);
    });

    it('the official ManagementClient: keys.getAll, get, rotate, revoke', async () => {
      const client = () => new ManagementClient({ domain: new URL(srv.issuer).host, clientId: MGMT.client_id, clientSecret: MGMT.client_secret, fetch: f, retry: { enabled: false } });
      const mgmt = client();
      const { data: all } = await mgmt.keys.getAll();
      const cur = all.find((k) => k.current)!;
      const next = all.find((k) => k.next)!;
      const { data: one } = await mgmt.keys.get({ kid: cur.kid });
      assert.equal(one.fingerprint, cur.fingerprint);
      const { data: rotated, status } = await mgmt.keys.rotate();
      assert.equal(status, 201);
      assert.equal(rotated.kid, next.kid);
      const { data: revoked } = await mgmt.keys.revoke({ kid: cur.kid });
      assert.equal(revoked.kid, cur.kid);
      assert.ok(!(await kids()).includes(cur.kid));
      // The SDK's cached token was signed by the key just revoked: it is refused like any other.
      await assert.rejects(mgmt.keys.getAll(), (err) => err instanceof ManagementApiError && err.statusCode === 401);
      try {
        await client().keys.revoke({ kid: rotated.kid });
        assert.fail('revoking the current key succeeded');
      } catch (err) {
        assert.ok(err instanceof ManagementApiError, String(err));
        assert.equal(err.statusCode, 400);
      }
    });
  });
}
