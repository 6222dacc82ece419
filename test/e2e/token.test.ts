import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { PASSWORDLESS_OTP_GRANT as GRANT, type LogEvent } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';

// Spec §3.3: apps match these strings byte for byte.
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };
const EXHAUSTED = { error: 'invalid_grant', error_description: "You've reached the maximum number of attempts. Please try to login again." };
const EXPIRED = { error: 'invalid_grant', error_description: 'The verification code has expired. Please try to login again.' };
type Creds = { client_id: string; client_secret?: string };
type Json = Record<string, unknown>;

for (const { backend, skip } of await backendMatrix()) {
  describe(`passwordless OTP grant on /oauth/token [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { clock: true }); // the server's clock is Date.now() + ctx.skew, so expiry is tested without waiting
    const codes: string[] = [];
    const taken = new Set<SinkMessage>();

    const app = (): Creds => ctx.server.defaultApp;
    /** The real path: POST /passwordless/start, then the code out of the mail the SMTP sink caught. */
    async function startCode(email: string, creds: Creds = app(), authParams?: Json): Promise<string> {
      const res = await ctx.server.post('/passwordless/start', { ...creds, connection: 'email', email, send: 'code', ...(authParams ? { authParams } : {}) });
      assert.equal(res.status, 200, await res.clone().text());
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m));
      taken.add(mail);
      codes.push(extractCode(mail));
      return codes.at(-1)!;
    }
    const otpBody = (email: string, otp: string, creds: Creds = app(), extra: Json = {}) => ({ grant_type: GRANT, ...creds, username: email, otp, realm: 'email', ...extra });
    const token = (body: unknown, headers?: Record<string, string>) => ctx.server.post('/oauth/token', body, headers);
    async function expectError(res: Response, status: number, body: Json) {
      assert.deepEqual({ status: res.status, body: await res.json() }, { status, body });
    }
    async function login(email: string, creds: Creds = app(), authParams?: Json, extra?: Json): Promise<Json> {
      const res = await token(otpBody(email, await startCode(email, creds, authParams), creds, extra));
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Json;
    }
    const wrongFor = (otp: string) => (otp === '000000' ? '111111' : '000000');
    const allLogs = () => ctx.server.services.store.logsAfter(null, 100_000);
    const logsOf = async (email: string) => (await allLogs()).filter((l) => l.user_name === email);
    const jwks = () => createRemoteJWKSet(new URL(`${ctx.server.issuer}.well-known/jwks.json`));

    it('exchanges a mailed code for an ID token the SDKs accept (JSON body, nonce from start)', async () => {
      const email = uniqueEmail('json');
      const nonce = randomUUID();
      const res = await token(otpBody(email, await startCode(email, app(), { nonce, scope: 'openid email' })));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as Record<string, string | number>;
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'scope', 'token_type']);
      assert.deepEqual([body.token_type, body.expires_in, body.scope], ['Bearer', 86400, 'openid email']);
      assert.match(ctx.server.issuer, /^http:\/\/localhost:\d+\/$/); // spec §8.4: trailing slash
      const id = await jwtVerify(String(body.id_token), jwks(), { issuer: ctx.server.issuer, audience: app().client_id, algorithms: ['RS256'] });
      assert.ok(id.protectedHeader.kid);
      assert.match(String(id.payload.sub), /^email\|[0-9a-f]{24}$/);
      assert.deepEqual([id.payload.nonce, id.payload.email, id.payload.email_verified], [nonce, email, true]);
      assert.equal(id.payload.exp! - id.payload.iat!, 36000);
      // OIDC Core §3.3.2.11, computed independently of the server's helper.
      const digest = createHash('sha256').update(String(body.access_token)).digest();
      assert.equal(id.payload.at_hash, digest.subarray(0, 16).toString('base64url'));
      const at = await jwtVerify(String(body.access_token), jwks(), { issuer: ctx.server.issuer, audience: `${ctx.server.issuer}userinfo`, typ: 'at+jwt' });
      assert.deepEqual([at.payload.sub, at.payload.azp, at.payload.scope, at.payload.exp! - at.payload.iat!], [id.payload.sub, app().client_id, 'openid email', 86400]);
      assert.ok(at.payload.jti);
    });

    it('accepts form-encoded bodies (what node-auth0 sends), defaults scope to openid and normalises the email', async () => {
      const email = uniqueEmail('form');
      const otp = await startCode(email);
      const form = new URLSearchParams({ grant_type: GRANT, ...app(), username: `  ${email.toUpperCase()} `, otp, realm: 'email' } as Record<string, string>);
      const res = await fetch(`${ctx.server.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.scope, 'openid');
      const claims = decodeJwt(body.id_token!);
      assert.equal(claims.email, undefined, 'OIDC §5.4: email claims need the email scope');
      assert.equal(claims.nonce, undefined);
      assert.equal((await ctx.server.services.store.getUser(String(claims.sub)))?.email, email);
    });

    it('answers malformed requests with Auth0 invalid_request errors', async () => {
      for (const name of ['username', 'otp', 'realm']) {
        const body: Json = otpBody('a@example.com', '123456');
        delete body[name];
        await expectError(await token(body), 400, { error: 'invalid_request', error_description: `Missing required parameter: ${name}` });
      }
      await expectError(await token(otpBody('a@example.com', '123456', app(), { realm: 'nope' })), 400, { error: 'invalid_request', error_description: 'the connection was not found' });
      const off = await createClient(ctx.server, { app_type: 'regular_web' }, { enableOn: null });
      await expectError(await token(otpBody('a@example.com', '123456', { client_id: off.client.client_id, client_secret: off.secret })), 400, { error: 'invalid_request', error_description: 'the connection was disabled' });
    });

    it('answers a wrong or never-issued code with the byte-exact Auth0 error (phone wording on sms)', async () => {
      const email = uniqueEmail('wrong');
      await expectError(await token(otpBody(email, '123456')), 403, WRONG);
      await expectError(await token(otpBody(email, wrongFor(await startCode(email)))), 403, WRONG);
      const { store } = ctx.server.services;
      const now = new Date().toISOString();
      const sms = { id: `con_sms${randomUUID().slice(0, 8)}`, name: 'sms', strategy: 'sms', options: {}, realms: ['sms'], is_domain_connection: false, created_at: now, updated_at: now };
      await store.insertConnection(sms);
      await store.setEnabledClients(sms.id, [{ client_id: app().client_id, status: true }]);
      const res = await token({ grant_type: GRANT, ...app(), username: '+15555550100', otp: '123456', realm: 'sms' });
      await expectError(res, 403, { error: 'invalid_grant', error_description: 'Wrong phone number or verification code.' });
    });

    it('allows three attempts per code: two wrong guesses then the code succeeds, three wrong lock it', async () => {
      const ok = uniqueEmail('third');
      const okCode = await startCode(ok);
      for (let i = 0; i < 2; i++) await expectError(await token(otpBody(ok, wrongFor(okCode))), 403, WRONG);
      assert.equal((await token(otpBody(ok, okCode))).status, 200);
      const locked = uniqueEmail('locked');
      const code = await startCode(locked);
      for (let i = 0; i < 3; i++) await expectError(await token(otpBody(locked, wrongFor(code))), 403, WRONG);
      await expectError(await token(otpBody(locked, code)), 403, EXHAUSTED);
    });

    it('counts at most three of 50 concurrent wrong guesses, and the right code is then refused', async () => {
      const email = uniqueEmail('race');
      const code = await startCode(email);
      const answers = await Promise.all(Array.from({ length: 50 }, async () => (await (await token(otpBody(email, wrongFor(code)))).json()) as Json));
      assert.equal(answers.filter((a) => a.error_description === WRONG.error_description).length, 3);
      // Brute-force protection (spec §7) blocks the pair after 10 failures: later guesses are answered
      // 429 before they reach the code, so they spend nothing either.
      const blocked = answers.filter((a) => a.error === 'too_many_attempts').length;
      assert.equal(answers.filter((a) => a.error_description === EXHAUSTED.error_description).length + blocked, 47);
      assert.equal((await token(otpBody(email, code))).status, 429);
    });

    it('accepts a code once', async () => {
      const email = uniqueEmail('once');
      const code = await startCode(email);
      assert.equal((await token(otpBody(email, code))).status, 200);
      await expectError(await token(otpBody(email, code)), 403, WRONG);
    });

    it('honours the connection OTP lifetime (180 s by default)', async () => {
      const [fresh, stale] = [uniqueEmail('fresh'), uniqueEmail('stale')];
      const [freshCode, staleCode] = [await startCode(fresh), await startCode(stale)];
      try {
        ctx.skew = 175_000;
        assert.equal((await token(otpBody(fresh, freshCode))).status, 200);
        ctx.skew = 181_000;
        await expectError(await token(otpBody(stale, staleCode)), 403, EXPIRED);
      } finally {
        ctx.skew = 0;
      }
    });

    it('binds a code to the client it was issued to', async () => {
      const b = await createClient(ctx.server, { app_type: 'regular_web' });
      const email = uniqueEmail('cross');
      const code = await startCode(email);
      await expectError(await token(otpBody(email, code, { client_id: b.client.client_id, client_secret: b.secret })), 403, WRONG);
      assert.equal((await token(otpBody(email, code))).status, 200, "another client's attempt must not burn this client's code");
    });

    it('lets a native (public) client exchange without a secret', async () => {
      const native = await createClient(ctx.server, { app_type: 'native' });
      const creds = { client_id: native.client.client_id };
      const body = await login(uniqueEmail('native'), creds);
      assert.equal(decodeJwt(String(body.id_token)).aud, native.client.client_id);
    });

    it('enforces client authentication and the grant before looking at the code', async () => {
      const { client_id, client_secret } = app();
      await expectError(await token(otpBody('a@example.com', '123456', { client_id })), 401, { error: 'access_denied', error_description: 'Unauthorized' });
      await expectError(await token(otpBody('a@example.com', '123456', { client_id, client_secret: `${client_secret}x` })), 401, { error: 'access_denied', error_description: 'Unauthorized' });
      await expectError(await token(otpBody('a@example.com', '123456', { client_id: 'nope', client_secret: 'x' })), 403, { error: 'unauthorized_client', error_description: 'invalid client' });
      const noGrant = await createClient(ctx.server, { app_type: 'regular_web', grant_types: ['authorization_code'] });
      await expectError(await token(otpBody('a@example.com', '123456', { client_id: noGrant.client.client_id, client_secret: noGrant.secret })), 403, {
        error: 'unauthorized_client',
        error_description: `Grant type '${GRANT}' not allowed for the client.`,
        error_uri: 'https://auth0.com/docs/clients/client-grant-types',
      });
      await expectError(await token({ ...otpBody('a@example.com', '1'), grant_type: 'urn:nope' }), 400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant type: urn:nope' });
    });

    it('creates the user on the first login only (ss then s), once even when first logins race', async () => {
      const email = uniqueEmail('signup');
      const first = decodeJwt(String((await login(email)).id_token)).sub;
      const second = decodeJwt(String((await login(email)).id_token)).sub;
      assert.equal(first, second);
      assert.deepEqual((await logsOf(email)).map((l) => l.type).filter((t) => t !== 'cs'), ['ss', 's', 's']);
      const user = await ctx.server.services.store.findUserByEmail('email', email);
      assert.deepEqual([user?.user_id, user?.email_verified, user?.logins_count], [first, true, 2]);

      const b = await createClient(ctx.server, { app_type: 'regular_web' });
      const bCreds = { client_id: b.client.client_id, client_secret: b.secret };
      const racer = uniqueEmail('racer');
      const [c1, c2] = [await startCode(racer), await startCode(racer, bCreds)];
      const [r1, r2] = await Promise.all([token(otpBody(racer, c1)), token(otpBody(racer, c2, bCreds))]);
      const subs = await Promise.all([r1, r2].map(async (r) => decodeJwt(String(((await r.json()) as Json).id_token)).sub));
      assert.equal(subs[0], subs[1]);
      assert.equal((await logsOf(racer)).filter((l) => l.type === 'ss').length, 1);
    });

    it('with disable_signup, logs in existing users and refuses new ones as a wrong code', async () => {
      const { store } = ctx.server.services;
      const existing = uniqueEmail('existing');
      await login(existing);
      const conn = (await store.getConnectionByName('email'))!;
      await store.updateConnection({ ...conn, options: { ...conn.options, disable_signup: true } });
      try {
        await login(existing);
        const stranger = uniqueEmail('stranger');
        await expectError(await token(otpBody(stranger, await startCode(stranger))), 403, WRONG);
        assert.equal(await store.findUserByEmail('email', stranger), undefined);
        assert.deepEqual((await logsOf(stranger)).map((l) => l.type).sort(), ['cs', 'fepotpft', 'fu']);
      } finally {
        await store.updateConnection(conn);
      }
    });

    it('refuses blocked users and Management API audiences; adds API audiences next to userinfo', async () => {
      const blocked = uniqueEmail('blocked');
      const now = new Date().toISOString();
      // A blocked user is sent no code (issue 4 §4): the code is mailed first, the block comes after.
      const blockedCode = await startCode(blocked);
      await ctx.server.services.store.createUserIfAbsent({ user_id: `email|${randomUUID().replace(/-/g, '').slice(0, 24)}`, connection: 'email', email: blocked, email_verified: true, blocked: true, user_metadata: {}, app_metadata: {}, created_at: now, updated_at: now, logins_count: 0 });
      await expectError(await token(otpBody(blocked, blockedCode)), 401, { error: 'unauthorized', error_description: 'user is blocked' });
      const mgmtUser = uniqueEmail('mgmt');
      const res = await token(otpBody(mgmtUser, await startCode(mgmtUser), app(), { audience: `${ctx.server.issuer}api/v2/`, scope: 'openid read:users' }));
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as Json).error, 'access_denied');
      // An audience must name a resource server (issue 4 §4): the API is created first.
      await mgmt(ctx.server, 'POST', '/resource-servers', { identifier: 'https://api.example.com/', name: 'Example API' });
      const body = await login(uniqueEmail('api'), app(), { audience: 'https://api.example.com/' });
      assert.deepEqual(decodeJwt(String(body.access_token)).aud, ['https://api.example.com/', `${ctx.server.issuer}userinfo`]);
    });

    it('serves /userinfo for its access tokens only (RFC 6750 errors)', async () => {
      const email = uniqueEmail('userinfo');
      const body = await login(email, app(), { scope: 'openid email' });
      const call = (auth?: string, method = 'GET') => fetch(`${ctx.server.baseUrl}/userinfo`, { method, headers: auth ? { authorization: auth } : {} });
      for (const method of ['GET', 'POST']) {
        const res = await call(`Bearer ${String(body.access_token)}`, method);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { sub: decodeJwt(String(body.id_token)).sub, email, email_verified: true });
      }
      const narrow = await login(uniqueEmail('narrow'));
      assert.deepEqual(Object.keys((await (await call(`Bearer ${String(narrow.access_token)}`)).json()) as Json), ['sub']);
      const missing = await call();
      assert.equal(missing.status, 401);
      assert.doesNotMatch(missing.headers.get('www-authenticate') ?? '', /error=/);
      // Same signature over a payload that claims another user.
      const [h, p, sig] = String(body.access_token).split('.');
      const forged = Buffer.from(JSON.stringify({ ...decodeJwt(String(body.access_token)), sub: 'email|000000000000000000000000' })).toString('base64url');
      const tampered = [h, forged, sig].join('.');
      assert.notEqual(forged, p);
      for (const bad of ['Bearer nope', `Bearer ${String(body.id_token)}`, `Bearer ${tampered}`, 'Basic Zm9vOmJhcg==']) {
        const res = await call(bad);
        assert.equal(res.status, 401, bad);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      }
    });

    it('takes the /userinfo access token from the query or a form body too (RFC 6750 §2.2, §2.3; passport-auth0)', async () => {
      const email = uniqueEmail('userinfo-query');
      const body = await login(email, app(), { scope: 'openid email' });
      const at = String(body.access_token);
      const expected = { sub: decodeJwt(String(body.id_token)).sub, email, email_verified: true };
      const viaQuery = await fetch(`${ctx.server.baseUrl}/userinfo?access_token=${encodeURIComponent(at)}`);
      assert.deepEqual({ status: viaQuery.status, body: await viaQuery.json() }, { status: 200, body: expected });
      const form = (fields: string, headers: Record<string, string> = {}) => fetch(`${ctx.server.baseUrl}/userinfo`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: fields,
      });
      const viaForm = await form(`access_token=${encodeURIComponent(at)}`);
      assert.deepEqual({ status: viaForm.status, body: await viaForm.json() }, { status: 200, body: expected });
      // §2: one method per request; a repeated parameter is no token either.
      const twice = [
        await fetch(`${ctx.server.baseUrl}/userinfo?access_token=${at}`, { headers: { authorization: `Bearer ${at}` } }),
        await form(`access_token=${at}`, { authorization: `Bearer ${at}` }),
        await fetch(`${ctx.server.baseUrl}/userinfo?access_token=${at}&access_token=${at}`),
      ];
      for (const res of twice) assert.deepEqual([res.status, ((await res.json()) as Json).error], [400, 'invalid_request']);
      for (const bad of ['nope', String(body.id_token), '', 'a b']) {
        const res = await fetch(`${ctx.server.baseUrl}/userinfo?access_token=${encodeURIComponent(bad)}`);
        assert.equal(res.status, 401, bad);
        assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      }
    });

    it('publishes discovery with the exact issuer, and the JWKS it points to', async () => {
      const disco = (await (await fetch(`${ctx.server.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(disco.issuer, ctx.server.issuer);
      assert.equal(disco.token_endpoint, `${ctx.server.issuer}oauth/token`);
      assert.deepEqual(disco.id_token_signing_alg_values_supported, ['RS256']);
      assert.ok((disco.grant_types_supported as string[]).includes(GRANT));
      const res = await fetch(String(disco.jwks_uri));
      assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
      const { keys } = (await res.json()) as { keys: Json[] };
      assert.ok(keys.length > 0 && keys.every((k) => k.kid && k.n && k.e && k.alg === 'RS256' && k.d === undefined));
    });

    it('never answers bad input with a 5xx', async () => {
      const raw = (body: string, type = 'application/json') => fetch(`${ctx.server.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': type }, body });
      const cases: Response[] = [
        await raw('[]'), await raw('{'), await raw('null'), await raw('otp=1', 'text/plain'),
        await raw(`grant_type=${encodeURIComponent(GRANT)}&client_id=${app().client_id}&client_secret=${app().client_secret}&username=a%40b.co&otp=1&otp=2&realm=email`, 'application/x-www-form-urlencoded'),
        await raw(JSON.stringify({ ...otpBody('a@b.co', '1'), grant_type: 'x'.repeat(70_000) })),
      ];
      for (const [k, v] of [['username', 42], ['otp', ['123456']], ['realm', { a: 1 }], ['username', 'a'.repeat(60_000)], ['scope', 7], ['otp', true]] as const) {
        cases.push(await token({ ...otpBody('a@b.co', '123456'), [k]: v }));
      }
      for (const res of cases) {
        const body = (await res.json()) as Json;
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${JSON.stringify(body)}`);
        assert.equal(typeof body.error, 'string');
      }
      // A malformed optional parameter is refused before the code is looked at: no attempt is spent.
      const email = uniqueEmail('malformed');
      const code = await startCode(email);
      for (const extra of [{ scope: 7 }, { audience: ['x'] }, { nonce: { a: 1 } }]) {
        assert.equal((await token(otpBody(email, wrongFor(code), app(), extra))).status, 400);
      }
      assert.equal((await token(otpBody(email, code))).status, 200);
    });

    it('logs s, ss and fepotpft, and no log ever contains a code', async () => {
      const email = uniqueEmail('logs');
      await token(otpBody(email, '123456'));
      const [f] = (await logsOf(email)).filter((l) => l.type === 'fepotpft') as (LogEvent & { details: { error: Json } })[];
      assert.equal(f?.description, 'Failed exchange of Passwordless OTP for Access Token');
      assert.deepEqual([f?.client_id, f?.connection, f?.details.error.message], [app().client_id, 'email', WRONG.error_description]);
      const logs = await allLogs();
      for (const type of ['s', 'ss']) assert.ok(logs.some((l) => l.type === type && l.user_id && l.connection_id && l.client_id), type);
      // log_id is 56 random-ish digits: leave it out so it cannot match a code by chance.
      const text = JSON.stringify(logs.map(({ log_id: _id, ...rest }) => rest));
      assert.ok(codes.length >= 20, `only ${codes.length} codes were checked`);
      for (const code of codes) assert.doesNotMatch(text, new RegExp(`(?<!\\d)${code}(?!\\d)`), `code ${code} leaked into a log`);
    });
  });
}
