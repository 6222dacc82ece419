import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { type Client, PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { authorizationCode, managementCall, tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

/** Issue 3 §6, byte for byte. */
const REUSED = '{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}';
const DAY = 24 * 3_600_000;
type App = { client: Client; secret: string };

/**
 * Refresh tokens over HTTPS against the real server: issued for `offline_access` by the
 * authorization_code and passwordless OTP grants, rotated with reuse detection (Sesame's default),
 * with a leeway, or non-rotating, as configured through the Management API's `refresh_token` field.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`refresh tokens [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let f: typeof fetch;
    let ca: string;
    let sink: SmtpSink;
    let skew = 0;
    let web: App;
    let spa: App;
    before(async () => {
      const tls = await tlsSetup();
      ({ fetch: f, ca } = tls);
      sink = await startSmtpSink();
      srv = await bootServer({ backend, now: () => Date.now() + skew, env: { ...tls.env, SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50', SESAME_START_LIMIT_PER_HOUR: '0' } });
      const grant_types = ['authorization_code', 'refresh_token', PASSWORDLESS_OTP_GRANT];
      web = await createClient(srv, { app_type: 'regular_web', callbacks: ['https://app.example.com/cb'], grant_types });
      spa = await createClient(srv, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types });
    });
    after(async () => {
      await srv?.close();
      await sink?.close();
    });

    const creds = (a: App, withSecret = a.client.app_type !== 'spa') => ({ client_id: a.client.client_id, ...(withSecret ? { client_secret: a.secret } : {}) });
    const refresh = (a: App, token: string, extra: Record<string, string> = {}) =>
      tokenRequest(srv, f, { grant_type: 'refresh_token', ...creds(a), refresh_token: token, ...extra });
    /** A login through /authorize + the code grant, with offline_access: the token response. */
    async function offlineLogin(a: App, scope = 'openid email offline_access', audience?: string) {
      const c = await authorizationCode(srv, f, a.client, { scope, pkce: a.client.app_type === 'spa', ...(audience ? { audience } : {}) });
      const res = await tokenRequest(srv, f, { grant_type: 'authorization_code', ...creds(a), code: c.code, ...(c.verifier ? { code_verifier: c.verifier } : {}) });
      assert.equal(res.status, 200, res.text);
      return { ...res.body, session: c.session } as Record<string, unknown> & { refresh_token: string; session: typeof c.session };
    }
    async function withSkew<T>(ms: number, run: () => Promise<T>): Promise<T> {
      skew = ms;
      try {
        return await run();
      } finally {
        skew = 0;
      }
    }
    async function policy(a: App, refresh_token: unknown) {
      const res = await managementCall(srv, f, 'PATCH', `/clients/${a.client.client_id}`, { refresh_token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      a.client = (await srv.services.store.getClient(a.client.client_id))!.client;
      return res.body.refresh_token;
    }

    it('offline_access earns a refresh token only when the client has the refresh_token grant', async () => {
      const login = await offlineLogin(web);
      assert.match(login.refresh_token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(decodeJwt(String(login.access_token)).scope, 'openid email offline_access');
      const plain = await offlineLogin(web, 'openid email');
      assert.equal(plain.refresh_token, undefined);
      const noGrant = await createClient(srv, { app_type: 'regular_web', callbacks: ['https://x.example.com/cb'], grant_types: ['authorization_code'] });
      assert.equal((await offlineLogin(noGrant)).refresh_token, undefined);
      // Stored hashed: the token itself appears nowhere in the artifacts table.
      assert.equal(await srv.services.store.getArtifact('refresh_token', login.refresh_token, Date.now()), undefined);
    });

    it('the passwordless OTP grant issues one too', async () => {
      const email = uniqueEmail('otp-rt');
      const start = await f(`${srv.baseUrl}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...creds(web), connection: 'email', email, send: 'code' }),
      });
      assert.equal(start.status, 200);
      const otp = extractCode(await sink.waitFor((m) => m.to === email));
      const res = await tokenRequest(srv, f, { grant_type: PASSWORDLESS_OTP_GRANT, ...creds(web), username: email, otp, realm: 'email', scope: 'openid offline_access' });
      assert.equal(res.status, 200, res.text);
      const next = await refresh(web, String(res.body.refresh_token));
      assert.equal(next.status, 200, next.text);
      assert.equal(decodeJwt(String(next.body.id_token)).email, undefined, 'scope openid only');
    });

    it('rotation (default): a new token each time; reuse of an old one revokes the family with the exact error', async () => {
      const login = await offlineLogin(spa);
      const first = await refresh(spa, login.refresh_token);
      assert.equal(first.status, 200, first.text);
      const rt2 = String(first.body.refresh_token);
      assert.notEqual(rt2, login.refresh_token);
      const claims = decodeJwt(String(first.body.id_token));
      assert.deepEqual([claims.sid, claims.sub, claims.nonce], [login.session.sid, login.session.userId, undefined]);
      assert.equal(claims.auth_time, decodeJwt(String(login.id_token)).auth_time, 'auth_time is the login, not the refresh');

      const reused = await refresh(spa, login.refresh_token);
      assert.deepEqual([reused.status, reused.text], [403, REUSED]);
      // The family is gone: the legitimate successor dies with it.
      assert.deepEqual([(await refresh(spa, rt2)).text], [REUSED]);
      const log = (await srv.services.store.logsAfter(null, 100_000)).find((l) => l.type === 'fertft' && (l.details as { reuse_detected?: boolean }).reuse_detected);
      assert.equal(log?.client_id, spa.client.client_id);
      assert.equal((log?.details as { revoked_refresh_tokens: number }).revoked_refresh_tokens, 2);
      assert.ok((await srv.services.store.logsAfter(null, 100_000)).some((l) => l.type === 'sertft' && l.user_id === login.session.userId));
    });

    it('a rotation racing a reuse of the same token never leaves a live successor', async () => {
      for (let i = 0; i < 8; i++) {
        const login = await offlineLogin(spa);
        const [a, b] = await Promise.all([refresh(spa, login.refresh_token), refresh(spa, login.refresh_token)]);
        // At most one wins the rotation and the other is a reuse, which revokes the family. If the
        // revocation lands before the winner stored its successor, the winner is refused too.
        assert.ok([a.status, b.status].includes(403), `${a.text} / ${b.text}`);
        for (const r of [a, b].filter((x) => x.status === 200)) assert.equal((await refresh(spa, String(r.body.refresh_token))).text, REUSED);
      }
    });

    it('leeway: a rotated-out token may come back within the window, not after', async () => {
      const app = await createClient(srv, { app_type: 'spa', callbacks: ['https://leeway.example.com/'], grant_types: ['authorization_code', 'refresh_token'] });
      const shown = await policy(app, { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 30 });
      assert.deepEqual(shown, { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 30, token_lifetime: 2_592_000, infinite_token_lifetime: false, idle_token_lifetime: 1_296_000, infinite_idle_token_lifetime: false });
      const login = await offlineLogin(app);
      const a = await refresh(app, login.refresh_token);
      const b = await refresh(app, login.refresh_token); // e.g. a second tab, or a lost response
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.notEqual(a.body.refresh_token, b.body.refresh_token);
      const late = await withSkew(31_000, () => refresh(app, login.refresh_token));
      assert.deepEqual([late.status, late.text], [403, REUSED]);
      assert.equal((await refresh(app, String(a.body.refresh_token))).status, 403, 'family revoked');
    });

    it('non-rotating: the same token keeps working and no new one is returned', async () => {
      const app = await createClient(srv, { app_type: 'regular_web', callbacks: ['https://nr.example.com/cb'], grant_types: ['authorization_code', 'refresh_token'] });
      await policy(app, { rotation_type: 'non-rotating', expiration_type: 'non-expiring' });
      const login = await offlineLogin(app);
      for (let i = 0; i < 3; i++) {
        const res = await refresh(app, login.refresh_token);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.refresh_token, undefined);
      }
      // Non-expiring: still good a year later.
      assert.equal((await withSkew(365 * DAY, () => refresh(app, login.refresh_token))).status, 200);
    });

    it('lifetimes: absolute (30 days) and idle (15 days) by default', async () => {
      const a = await offlineLogin(web);
      assert.equal((await withSkew(16 * DAY, () => refresh(web, a.refresh_token))).text, REUSED, 'idle for 16 days');
      const b = await offlineLogin(web);
      // Used every 10 days: never idle, but the family ends 30 days after the login.
      let rt = b.refresh_token;
      for (const day of [10, 20]) {
        const res = await withSkew(day * DAY, () => refresh(web, rt));
        assert.equal(res.status, 200, `day ${day}: ${res.text}`);
        rt = String(res.body.refresh_token);
      }
      assert.equal((await withSkew(30 * DAY + 1_000, () => refresh(web, rt))).text, REUSED);
    });

    it('scope may be narrowed, never widened (RFC 6749 §6); the rotated token keeps the full scope', async () => {
      const login = await offlineLogin(web);
      const narrow = await refresh(web, login.refresh_token, { scope: 'openid' });
      assert.equal(narrow.status, 200, narrow.text);
      assert.equal(narrow.body.scope, 'openid');
      assert.equal(decodeJwt(String(narrow.body.id_token)).email, undefined);
      const wide = await refresh(web, String(narrow.body.refresh_token), { scope: 'openid email admin' });
      assert.deepEqual([wide.status, wide.body.error], [403, 'invalid_scope']);
      const full = await refresh(web, String(narrow.body.refresh_token));
      assert.equal(full.status, 200, 'the refused request did not spend the token');
      assert.equal(full.body.scope, 'openid email offline_access');
    });

    it("another client's, unknown and malformed tokens; a blocked user; client authentication", async () => {
      const login = await offlineLogin(web);
      assert.equal((await refresh(spa, login.refresh_token)).text, REUSED);
      assert.equal((await refresh(web, 'x'.repeat(43))).text, REUSED);
      assert.equal((await refresh(web, '')).status, 400);
      const noSecret = await tokenRequest(srv, f, { grant_type: 'refresh_token', client_id: web.client.client_id, refresh_token: login.refresh_token });
      assert.deepEqual([noSecret.status, noSecret.body.error], [401, 'access_denied']);
      const other = await refresh(web, login.refresh_token, { audience: 'https://api.example.com/' });
      assert.deepEqual([other.status, other.body.error], [400, 'invalid_request']);
      // None of the refused requests spent it.
      const ok = await refresh(web, login.refresh_token);
      assert.equal(ok.status, 200, ok.text);

      const user = (await srv.services.store.getUser(login.session.userId))!;
      await srv.services.store.updateUser({ ...user, blocked: true });
      const blocked = await refresh(web, String(ok.body.refresh_token));
      assert.deepEqual([blocked.status, blocked.body], [401, { error: 'unauthorized', error_description: 'user is blocked' }]);
    });

    it('the official SDK: refreshTokenGrant with a confidential client', async () => {
      const login = await offlineLogin(web);
      const auth0 = new AuthenticationClient({ domain: new URL(srv.issuer).host, clientId: web.client.client_id, clientSecret: web.secret, fetch: f, agent: new Agent({ ca }) as never });
      const { data } = await auth0.oauth.refreshTokenGrant({ refresh_token: login.refresh_token });
      assert.equal(typeof data.id_token, 'string'); // validated by the SDK (iss, aud, RS256 via JWKS)
      assert.match(String(data.refresh_token), /^[A-Za-z0-9_-]{43}$/);
      await assert.rejects(auth0.oauth.refreshTokenGrant({ refresh_token: login.refresh_token }), (err: { statusCode?: number; error?: string; error_description?: string }) => {
        assert.deepEqual([err.statusCode, err.error, err.error_description], [403, 'invalid_grant', 'Unknown or invalid refresh token.']);
        return true;
      });
    });
  });
}
