import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { type AuthCodeDoc, type LoginTicketDoc, artifactId } from '../../src/core/artifacts.ts';
import { type Client, type LogEvent, PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

/** Spec §3.6 (AUTH0JS-DOC) and the OTP grant's strings (spec §3.3). */
const INVALID_BODY = 'Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.';
const WRONG = 'Wrong email or verification code.';
const EXHAUSTED = "You've reached the maximum number of attempts. Please try to login again.";
const EXPIRED = 'The verification code has expired. Please try to login again.';
const APP = 'https://app.example.com';
const CALLBACK = `${APP}/callback`;

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** The cookies of a response, by name: value and attributes as sent. */
function setCookies(res: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) out.set(c.slice(0, c.indexOf('=')), c);
  return out;
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`POST /co/authenticate and /authorize?login_ticket [${backend}]`, { skip }, () => {
    let server: TestServer;
    let sink: SmtpSink;
    let skewMs = 0;
    let spa: Client;

    before(async () => {
      sink = await startSmtpSink();
      server = await bootServer({ backend, env: { SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50' }, now: () => Date.now() + skewMs });
      spa = (await createClient(server, {
        app_type: 'spa',
        cross_origin_authentication: true,
        allowed_origins: [APP],
        callbacks: [CALLBACK],
        grant_types: ['authorization_code', 'implicit', PASSWORDLESS_OTP_GRANT],
      })).client;
    });
    after(async () => {
      await server?.close();
      await sink?.close();
    });

    const sendCode = async (client: Client, email: string) => {
      const earlier = new Set(sink.messages);
      const res = await server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, await res.clone().text());
      return extractCode(await sink.waitFor((m) => m.to.includes(email) && !earlier.has(m)));
    };
    /** auth0-js's exact body (cross-origin-authentication.js), from the app's origin. */
    const co = (body: Record<string, unknown>, origin: string | null = APP) =>
      server.post('/co/authenticate', body, { ...(origin ? { origin } : {}), 'user-agent': 'co-test/1.0' });
    const coBody = (client: Client, email: string, otp: string) => ({
      client_id: client.client_id, username: email, otp, realm: 'email', credential_type: PASSWORDLESS_OTP_GRANT,
    });
    const logs = async (type: string, clientId: string): Promise<LogEvent[]> =>
      (await server.services.store.searchLogs({
        query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: type, wildcard: false }, { kind: 'term', fields: ['client_id'], value: clientId, wildcard: false }] },
        page: 0, perPage: 100, sort: { field: 'date', dir: 'desc' },
      })).items;
    const expectError = async (res: Response, status: number, error: string, description: string) => {
      assert.equal(res.status, status);
      assert.deepEqual(await res.json(), { error, error_description: description });
    };
    /** A successful /co/authenticate: the ticket answer and the verifier cookie as a Cookie header. */
    const login = async (client: Client = spa, email = uniqueEmail('co')) => {
      const res = await co(coBody(client, email, await sendCode(client, email)));
      assert.equal(res.status, 200);
      const body = (await res.json()) as { login_ticket: string; co_verifier: string; co_id: string };
      return { ...body, email, cookie: `sesame_co_${body.co_id}=${body.co_verifier}` };
    };
    const authorize = (params: Record<string, string>, cookie?: string) =>
      fetch(`${server.baseUrl}/authorize?${new URLSearchParams({ client_id: spa.client_id, redirect_uri: CALLBACK, ...params })}`, {
        redirect: 'manual',
        headers: cookie ? { cookie } : {},
      });

    it('answers a ticket, a verifier and an id, sets the verifier cookie, and logs scoa', async () => {
      const email = uniqueEmail('co');
      const res = await co(coBody(spa, email, await sendCode(spa, email)));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as Record<string, string>;
      assert.deepEqual(Object.keys(body).sort(), ['co_id', 'co_verifier', 'login_ticket']);
      assert.match(body.login_ticket!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(body.co_verifier!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(body.co_id!, /^[A-Za-z0-9]{32}$/);

      const cookie = setCookies(res).get(`sesame_co_${body.co_id}`);
      assert.ok(cookie, 'the verifier cookie is set');
      assert.ok(cookie.startsWith(`sesame_co_${body.co_id}=${body.co_verifier};`));
      for (const attr of ['SameSite=None', 'Secure', 'HttpOnly', 'Path=/', 'Max-Age=900']) assert.ok(cookie.split('; ').includes(attr), `${attr} in ${cookie}`);

      // Stored only as keyed hashes: the ticket by id, the verifier inside.
      const stored = await server.services.store.getArtifact<LoginTicketDoc>('login_ticket', artifactId(server.services, 'login_ticket', body.login_ticket!), Date.now());
      assert.ok(stored);
      assert.equal(stored.doc.client_id, spa.client_id);
      assert.ok(!JSON.stringify(stored).includes(body.co_verifier!) && !JSON.stringify(stored).includes(body.login_ticket!));

      const [scoa] = await logs('scoa', spa.client_id);
      assert.ok(scoa);
      assert.equal(scoa.user_name, email);
      assert.match(scoa.user_id ?? '', /^email\|/);
      assert.equal(scoa.connection, 'email');
      assert.equal(scoa.ip, '127.0.0.1');
      assert.equal(scoa.user_agent, 'co-test/1.0');
      for (const secret of [body.co_verifier!, body.login_ticket!]) assert.ok(!JSON.stringify(scoa).includes(secret));
    });

    it('redeems the ticket at /authorize with the cookie: a code bound to the user, a session, the co cookie cleared', async () => {
      const t = await login();
      const { challenge } = pkce();
      const res = await authorize({ response_type: 'code', state: 'app-state', code_challenge: challenge, code_challenge_method: 'S256', realm: 'email', login_ticket: t.login_ticket }, t.cookie);
      assert.equal(res.status, 302);
      const to = new URL(res.headers.get('location')!);
      assert.equal(`${to.origin}${to.pathname}`, CALLBACK);
      assert.equal(to.searchParams.get('state'), 'app-state');
      const code = to.searchParams.get('code');
      assert.ok(code, `no code in ${to.href}`);
      const doc = await server.services.store.getArtifact<AuthCodeDoc>('auth_code', artifactId(server.services, 'auth_code', code), Date.now());
      assert.ok(doc);
      assert.equal(doc.doc.client_id, spa.client_id);
      assert.equal(doc.doc.code_challenge, challenge);
      const user = await server.services.store.findUserByEmail('email', t.email);
      assert.equal(doc.doc.user_id, user?.user_id);

      const cookies = setCookies(res);
      assert.match(cookies.get(`sesame_co_${t.co_id}`) ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/, 'the co cookie is cleared');
      const session = cookies.get('sesame_session');
      assert.ok(session, 'a login session is opened');
      // The session works: prompt=none answers at once.
      const sso = await authorize({ response_type: 'code', prompt: 'none', code_challenge: challenge, code_challenge_method: 'S256' }, session.split(';')[0]);
      assert.ok(new URL(sso.headers.get('location')!).searchParams.get('code'));
    });

    it('redeems into tokens for the implicit flow (auth0-js default responseType "token id_token")', async () => {
      const t = await login();
      const res = await authorize({ response_type: 'token id_token', nonce: 'n-0S6_WzA2Mj', state: 's1', login_ticket: t.login_ticket }, t.cookie);
      assert.equal(res.status, 302);
      const hash = new URLSearchParams(new URL(res.headers.get('location')!).hash.slice(1));
      assert.equal(hash.get('state'), 's1');
      assert.equal(hash.get('token_type'), 'Bearer');
      const id = decodeJwt(hash.get('id_token')!);
      assert.equal(id.nonce, 'n-0S6_WzA2Mj');
      assert.equal(id.aud, spa.client_id);
      assert.equal(id.email, undefined); // scope defaults to openid
      assert.equal(decodeJwt(hash.get('access_token')!).azp, spa.client_id);
    });

    it('a ticket redeemed for an API grants only the OIDC scopes and the scopes the API defines (issue 10 §1)', async () => {
      const identifier = `https://co-orders-${Date.now().toString(36)}.example`;
      const rs = await server.app.inject({
        method: 'POST', url: '/api/v2/resource-servers', headers: { authorization: `Bearer ${await server.mgmtToken()}` },
        payload: { identifier, scopes: [{ value: 'read:orders' }] },
      });
      assert.equal(rs.statusCode, 201, rs.body);
      const t = await login();
      const res = await authorize({
        response_type: 'token id_token', nonce: 'n-1', state: 's2', login_ticket: t.login_ticket, audience: identifier, scope: 'openid read:orders delete:orders admin',
      }, t.cookie);
      assert.equal(res.status, 302);
      const hash = new URLSearchParams(new URL(res.headers.get('location')!).hash.slice(1));
      assert.equal(hash.get('scope'), 'openid read:orders', hash.toString());
      assert.equal(decodeJwt(hash.get('access_token')!).scope, 'openid read:orders');
    });

    it('redeems a ticket once', async () => {
      const t = await login();
      const params = { response_type: 'token id_token', nonce: 'n', login_ticket: t.login_ticket };
      assert.ok(new URLSearchParams(new URL((await authorize(params, t.cookie)).headers.get('location')!).hash.slice(1)).get('access_token'));
      const again = await authorize(params, t.cookie);
      assert.equal(again.status, 302);
      const hash = new URLSearchParams(new URL(again.headers.get('location')!).hash.slice(1));
      assert.equal(hash.get('error'), 'access_denied');
      assert.equal(hash.get('access_token'), null);
    });

    it('sends a clear error back when the browser did not keep the cookie (third-party cookies blocked), and logs f', async () => {
      const t = await login();
      const res = await authorize({ response_type: 'token id_token', nonce: 'n', state: 'st', login_ticket: t.login_ticket });
      assert.equal(res.status, 302);
      const hash = new URLSearchParams(new URL(res.headers.get('location')!).hash.slice(1));
      assert.equal(hash.get('error'), 'access_denied');
      assert.equal(hash.get('state'), 'st');
      const description = hash.get('error_description') ?? '';
      assert.match(description, /blocked the cookie set by cross-origin authentication/);
      assert.match(description, /third-party cookies/);
      assert.match(description, /hosted login page \(Universal Login\)/);
      const f = (await logs('f', spa.client_id)).find((l) => l.description === description);
      assert.ok(f, 'an f log says why');
      assert.ok(!JSON.stringify(f).includes(t.login_ticket));
      // The ticket is spent: the cookie arriving later does not revive it.
      const later = await authorize({ response_type: 'token id_token', nonce: 'n', login_ticket: t.login_ticket }, t.cookie);
      assert.equal(new URLSearchParams(new URL(later.headers.get('location')!).hash.slice(1)).get('error'), 'access_denied');
    });

    it('refuses a wrong verifier, another client, and made-up tickets', async () => {
      const wrong = await login();
      const r1 = await authorize({ response_type: 'token id_token', nonce: 'n', login_ticket: wrong.login_ticket }, `sesame_co_${wrong.co_id}=${'A'.repeat(43)}`);
      assert.match(new URLSearchParams(new URL(r1.headers.get('location')!).hash.slice(1)).get('error_description') ?? '', /verifier does not match/);

      const other = (await createClient(server, {
        app_type: 'spa', cross_origin_authentication: true, allowed_origins: [APP], callbacks: [CALLBACK], grant_types: ['implicit', PASSWORDLESS_OTP_GRANT],
      })).client;
      const t = await login(other);
      const r2 = await authorize({ response_type: 'token id_token', nonce: 'n', login_ticket: t.login_ticket }, t.cookie);
      const h2 = new URLSearchParams(new URL(r2.headers.get('location')!).hash.slice(1));
      assert.equal(h2.get('error'), 'access_denied');
      assert.match(h2.get('error_description') ?? '', /another application/);

      const r3 = await authorize({ response_type: 'token id_token', nonce: 'n', login_ticket: 'made-up' });
      assert.equal(new URLSearchParams(new URL(r3.headers.get('location')!).hash.slice(1)).get('error'), 'access_denied');
    });

    describe('the error table (spec §3.6)', () => {
      it('400 invalid_request for a body that is not all and only the five fields', async () => {
        const base = coBody(spa, uniqueEmail(), '123456');
        const { otp: _otp, ...noOtp } = base;
        for (const body of [noOtp, { ...base, extra: 'x' }, { ...base, otp: 123456 }, { ...base, username: '' }, { ...base, credential_type: undefined }]) {
          await expectError(await co(body), 400, 'invalid_request', INVALID_BODY);
        }
        const res = await fetch(`${server.baseUrl}/co/authenticate`, { method: 'POST', headers: { 'content-type': 'application/json', origin: APP }, body: '[]' });
        await expectError(res, 400, 'invalid_request', INVALID_BODY);
        const [fcoa] = await logs('fcoa', spa.client_id);
        assert.deepEqual(fcoa?.details, { error: { message: INVALID_BODY, oauthError: 'invalid_request' } });
      });

      it('400 unsupported_credential_type for other credential types (passwords included)', async () => {
        await expectError(await co({ ...coBody(spa, uniqueEmail(), '1'), credential_type: 'nope' }), 400, 'unsupported_credential_type', 'Unknown credential type parameter.');
        const { otp: _o, ...rest } = coBody(spa, uniqueEmail(), '1');
        await expectError(await co({ ...rest, password: 'x', credential_type: 'http://auth0.com/oauth/grant-type/password-realm' }), 400, 'unsupported_credential_type', 'Unknown credential type parameter.');
      });

      it('401 unauthorized_client when cross-origin authentication is off, the origin is not allowed, absent, or the client unknown', async () => {
        const off = (await createClient(server, { app_type: 'spa', cross_origin_authentication: false, allowed_origins: [APP] })).client;
        await expectError(await co(coBody(off, uniqueEmail(), '123456')), 401, 'unauthorized_client', 'Cross origin login not allowed.');
        const evil = await co(coBody(spa, uniqueEmail(), '123456'), 'https://evil.example');
        assert.equal(evil.headers.get('access-control-allow-origin'), null, 'no CORS headers for a refused origin');
        await expectError(evil, 401, 'unauthorized_client', 'Cross origin login not allowed.');
        await expectError(await co(coBody(spa, uniqueEmail(), '123456'), null), 401, 'unauthorized_client', 'Cross origin login not allowed.');
        await expectError(await co({ ...coBody(spa, uniqueEmail(), '123456'), client_id: 'no-such-client' }), 401, 'unauthorized_client', 'Cross origin login not allowed.');
        assert.ok((await logs('fco', spa.client_id)).some((l) => (l.details as { origin?: string }).origin === 'https://evil.example'));
      });

      it('400 invalid_request "Unknown realm" for a missing connection or one not enabled for the client', async () => {
        await expectError(await co({ ...coBody(spa, uniqueEmail(), '123456'), realm: 'nope' }), 400, 'invalid_request', 'Unknown realm nope.');
        const notEnabled = (await createClient(server, { app_type: 'spa', cross_origin_authentication: true, allowed_origins: [APP] }, { enableOn: null })).client;
        await expectError(await co(coBody(notEnabled, uniqueEmail(), '123456')), 400, 'invalid_request', 'Unknown realm email.');
      });

      it('403 access_denied for a wrong code, then the maximum-attempts string; fcoa logged without the code', async () => {
        const email = uniqueEmail('wrong');
        const code = await sendCode(spa, email);
        const bad = code === '000000' ? '111111' : '000000';
        for (let i = 0; i < 3; i++) await expectError(await co(coBody(spa, email, bad)), 403, 'access_denied', WRONG);
        await expectError(await co(coBody(spa, email, code)), 403, 'access_denied', EXHAUSTED);
        const fcoa = (await logs('fcoa', spa.client_id)).filter((l) => l.user_name === email);
        assert.equal(fcoa.length, 4);
        assert.deepEqual(fcoa.at(-1)?.details, { error: { message: WRONG, oauthError: 'access_denied' } });
        assert.equal(fcoa[0]?.connection, 'email');
        assert.equal(fcoa[0]?.user_agent, 'co-test/1.0');
        assert.ok(!JSON.stringify(fcoa).includes(code));
      });

      it('403 access_denied with the expiry string once the code has expired', async () => {
        const email = uniqueEmail('late');
        const code = await sendCode(spa, email);
        skewMs = 181_000; // Auth0's default lifetime is 180 s
        try {
          await expectError(await co(coBody(spa, email, code)), 403, 'access_denied', EXPIRED);
        } finally {
          skewMs = 0;
        }
      });

      it('403 blocked_user for a blocked user, and the code cannot be replayed', async () => {
        const t = await login();
        const user = (await server.services.store.findUserByEmail('email', t.email))!;
        // A blocked user is sent no code (issue 4 §4): the code is mailed first, the block comes after.
        const code = await sendCode(spa, t.email);
        await server.services.store.updateUser({ ...user, blocked: true });
        await expectError(await co(coBody(spa, t.email, code)), 403, 'blocked_user', 'Blocked user');
        await expectError(await co(coBody(spa, t.email, code)), 403, 'access_denied', WRONG);
      });
    });
  });

  // The counter is the store's atomic hitRateLimit, which start-rate-limit.test.ts runs on both
  // backends; one extra server per file is enough here.
  describe(`POST /co/authenticate per-IP limit [${backend}]`, { skip: skip || (backend !== 'sqlite' && 'covered on sqlite') }, () => {
    let server: TestServer;
    before(async () => {
      // Start's limit of 1/h makes /co/authenticate's 3/h (MAX_ATTEMPTS × start's).
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '1' } });
    });
    after(async () => {
      await server?.close();
    });

    it('429 too_many_attempts past MAX_ATTEMPTS × the start limit, with one api_limit log', async () => {
      const { client } = await createClient(server, { app_type: 'spa', cross_origin_authentication: true, allowed_origins: [APP] });
      const body = { client_id: client.client_id, username: 'x@example.com', otp: '123456', realm: 'email', credential_type: PASSWORDLESS_OTP_GRANT };
      for (let i = 0; i < 3; i++) assert.equal((await server.post('/co/authenticate', body, { origin: APP })).status, 403);
      for (let i = 0; i < 2; i++) {
        const res = await server.post('/co/authenticate', body, { origin: APP });
        assert.equal(res.status, 429);
        assert.equal((await res.json() as { error: string }).error, 'too_many_attempts');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
        assert.equal(res.headers.get('access-control-allow-origin'), APP, 'the browser can read why');
      }
      const limits = await server.services.store.searchLogs({ query: { kind: 'term', fields: ['type'], value: 'api_limit', wildcard: false }, page: 0, perPage: 10, sort: { field: 'date', dir: 'desc' } });
      assert.equal(limits.items.length, 1);
    });
  });
}
