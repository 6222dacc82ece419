import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { CookieJar, hiddenFields } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** @see issue 3 §3: POST /passwordless/verify as auth0-js calls it from a login page (spec §3.4). */

const CALLBACK = 'https://app.example.com/callback';
const WRONG = { error: 'invalid_user_password', error_description: 'Wrong email or verification code.' };

for (const { backend, skip } of await backendMatrix()) {
  describe(`POST /passwordless/verify [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { clock: true });

    /** auth0-js `passwordlessVerify`: JSON, no grant_type, no secret. */
    const verify = (body: Record<string, unknown>) => ctx.server.post('/passwordless/verify', body);

    /** A login page's sign-in: /authorize in `jar` (a new browser unless given), then a code started with the transaction state. */
    const pageCode = async (jar = new CookieJar(ctx.server.baseUrl)) => {
      const { client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: [PASSWORDLESS_OTP_GRANT, 'authorization_code'] });
      const q = new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 'app-state' });
      const authorize = await jar.fetch(`/authorize?${q}`);
      const state = new URL(authorize.headers.get('location')!, ctx.server.baseUrl).searchParams.get('state')!;
      const email = uniqueEmail('verify');
      const start = await ctx.server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email, send: 'code', authParams: { state } });
      assert.equal(start.status, 200, await start.clone().text());
      const code = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      return { client, email, state, code };
    };

    it('checks the code without consuming it, so the verify_redirect that follows signs in', async () => {
      const jar = new CookieJar(ctx.server.baseUrl);
      const { client, email, state, code } = await pageCode(jar);
      const body = { connection: 'email', verification_code: code, email, client_id: client.client_id };
      for (let i = 0; i < 2; i++) {
        const res = await verify(body);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), {});
      }
      // auth0-js then sends the browser to verify_redirect with the same code (spec §3.5).
      const q = new URLSearchParams({ client_id: client.client_id, response_type: 'code', redirect_uri: CALLBACK, connection: 'email', email, verification_code: code, state });
      const page = await jar.fetch(`/passwordless/verify_redirect?${q}`);
      const html = await page.text();
      assert.match(html, /\.submit\(\);<\/script>/, 'the browser that started the sign-in submits by itself');
      const done = await jar.postForm('/passwordless/verify_redirect', hiddenFields(html));
      assert.equal(done.status, 302);
      const location = new URL(done.headers.get('location')!);
      assert.equal(location.searchParams.get('state'), 'app-state');
      assert.ok(location.searchParams.get('code'));
      // Now the code is spent.
      const after = await verify(body);
      assert.equal(after.status, 401);
      assert.deepEqual(await after.json(), WRONG);
    });

    it('answers wrong codes in Auth0\'s shape, gives a right code its budget back, and stops after 3 wrong tries', async () => {
      const { client, email, code } = await pageCode();
      const body = { connection: 'email', email, client_id: client.client_id };
      const wrong = code === '000000' ? '111111' : '000000';
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 2; i++) {
          const res = await verify({ ...body, verification_code: wrong });
          assert.equal(res.status, 401);
          assert.deepEqual(await res.json(), WRONG);
        }
        assert.equal((await verify({ ...body, verification_code: code })).status, 200, 'two misses and a hit, twice: the hit resets the count');
      }
      for (let i = 0; i < 3; i++) assert.equal((await verify({ ...body, verification_code: wrong })).status, 401);
      const exhausted = await verify({ ...body, verification_code: code });
      assert.equal(exhausted.status, 401);
      assert.deepEqual(await exhausted.json(), { error: 'invalid_user_password', error_description: "You've reached the maximum number of attempts. Please try to login again." });
      const failures = await ctx.server.services.store.searchLogs({ query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: 'f', wildcard: false }, { kind: 'term', fields: ['client_id'], value: client.client_id, wildcard: false }] }, page: 0, perPage: 50, sort: { field: 'date', dir: 'desc' } });
      assert.equal(failures.items.length, 8);
      assert.equal(failures.items[0]?.connection, 'email');
      assert.ok(!JSON.stringify(failures.items).includes(code), 'logs never hold the code');
    });

    it('refuses an expired code', async () => {
      const { client, email, code } = await pageCode();
      ctx.skew = 181_000;
      try {
        const res = await verify({ connection: 'email', verification_code: code, email, client_id: client.client_id });
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { error: 'invalid_user_password', error_description: 'The verification code has expired. Please try to login again.' });
      } finally {
        ctx.skew = 0;
      }
    });

    it('validates the request with ERR-VERIFY\'s errors', async () => {
      const { client, email, code } = await pageCode();
      const ok = { connection: 'email', verification_code: code, email, client_id: client.client_id };
      const cases: [Record<string, unknown>, number, Record<string, string>][] = [
        [{ ...ok, client_id: 'no-such-client' }, 403, { error: 'unauthorized_client', error_description: 'invalid client' }],
        [{ ...ok, client_id: undefined }, 400, { error: 'invalid_request', error_description: 'missing client_id parameter' }],
        [{ ...ok, connection: undefined }, 400, { error: 'invalid_request', error_description: 'missing connection parameter' }],
        [{ ...ok, verification_code: undefined }, 400, { error: 'invalid_request', error_description: 'missing verification_code parameter' }],
        [{ ...ok, email: undefined }, 400, { error: 'invalid_request', error_description: 'missing email parameter' }],
        [{ ...ok, verification_code: 123456 }, 400, { error: 'invalid_request', error_description: 'verification_code parameter must be a string' }],
        [{ ...ok, connection: 'nope' }, 400, { error: 'invalid_request', error_description: 'the connection was not found' }],
      ];
      for (const [body, status, expected] of cases) {
        const res = await verify(body);
        assert.equal(res.status, status, JSON.stringify(body));
        assert.deepEqual(await res.json(), expected);
      }
      const { client: other } = await createClient(ctx.server, { app_type: 'spa' }, { enableOn: null });
      const disabled = await verify({ ...ok, client_id: other.client_id });
      assert.equal(disabled.status, 400);
      assert.deepEqual(await disabled.json(), { error: 'invalid_request', error_description: 'the connection was disabled' });
      // None of these spent the code.
      assert.equal((await verify(ok)).status, 200);
    });

    it('refuses a blocked user once the code is proven', async () => {
      const { client, email, code } = await pageCode();
      const s = ctx.server.services;
      const now = new Date().toISOString();
      const { user } = await s.store.createUserIfAbsent({
        user_id: `email|blocked${Date.now()}`, connection: 'email', email: email.toLowerCase(), email_verified: true, blocked: true,
        user_metadata: {}, app_metadata: {}, created_at: now, updated_at: now, logins_count: 0,
      });
      assert.equal(user.blocked, true);
      const res = await verify({ connection: 'email', verification_code: code, email, client_id: client.client_id });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'unauthorized', error_description: 'user is blocked' });
    });
  });
}
