import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { BLOCKED_BODY, THRESHOLD, TOO_MANY, block, exchange, fail } from '../helpers/brute-force.ts';
import { CookieJar, inputValue } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';

type Json = Record<string, any>;
const DAY = 86_400_000;
const APP = 'https://spa.example.com';
const CALLBACK = 'https://app.example.com/callback';
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };
const PAGE_EN = 'Your account has been blocked after multiple consecutive login attempts. Contact the application’s support to unblock it.';
const PAGE_FR = 'Votre compte a été bloqué après plusieurs tentatives de connexion consécutives. Contactez le support de l’application pour le débloquer.';

/**
 * Spec §7 and §3.3 (BFP): 10 failed code/link verifications for one identifier from one IP block
 * that pair for 30 days (or until `DELETE /api/v2/user-blocks`); a blocked pair is answered 429
 * `too_many_attempts` by every verification before its code is looked at; one `limit_wc` log.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`brute-force protection [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { clock: true });
    const taken = new Set<SinkMessage>();

    async function startCode(email: string): Promise<string> {
      const res = await ctx.server.post('/passwordless/start', { ...ctx.server.defaultApp, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, await res.clone().text());
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m));
      taken.add(mail);
      return extractCode(mail);
    }
    const allLogs = () => ctx.server.services.store.logsAfter(null, 100_000);
    const logsOf = async (type: string, userName: string) => (await allLogs()).filter((l) => l.type === type && l.user_name === userName);

    it('the 10th failure blocks the pair: then 429 before the code is looked at, one limit_wc, fepotpft still written', async () => {
      const email = uniqueEmail('bf');
      await fail(ctx.server, email, THRESHOLD - 1);
      assert.equal((await logsOf('limit_wc', email)).length, 0, 'no block before the threshold');
      // The 10th guess is still evaluated (a wrong code), and blocks.
      const tenth = await exchange(ctx.server, email, '000000');
      assert.deepEqual({ status: tenth.status, body: tenth.json() }, { status: 403, body: WRONG });

      // A right code sent after the block: refused without spending it (3 tries, more than a code's budget).
      const code = await startCode(email);
      for (const username of [email, email.toUpperCase(), ` ${email} `]) {
        const res = await exchange(ctx.server, username, code);
        assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
      }
      // The block is per IP: from another address the same code still works, so none of its attempts was spent.
      const elsewhere = await exchange(ctx.server, email, code, '127.0.0.2');
      assert.equal(elsewhere.status, 200, elsewhere.text);
      // And per identifier: another email from the blocked IP is answered as usual.
      const other = await exchange(ctx.server, uniqueEmail('bf-other'), '000000');
      assert.deepEqual({ status: other.status, body: other.json() }, { status: 403, body: WRONG });

      const [limit, ...more] = await logsOf('limit_wc', email);
      assert.equal(more.length, 0, 'exactly one limit_wc');
      assert.ok(limit);
      assert.deepEqual(
        { description: limit.description, ip: limit.ip, client_id: limit.client_id, client_name: limit.client_name, connection: limit.connection, user_name: limit.user_name, identifier: (limit.details as Json).identifier },
        { description: 'IP 127.0.0.1 reached the maximum failed login attempts into a single account', ip: '127.0.0.1', client_id: ctx.server.defaultApp.client_id, client_name: 'Default App', connection: 'email', user_name: email, identifier: email },
      );
      assert.ok(!JSON.stringify(limit).includes(code), 'no code in the log');
      const refused = (await logsOf('fepotpft', email)).filter((l) => (l.details as Json).error.oauthError === 'too_many_attempts');
      assert.equal(refused.length, 3);
      assert.equal((refused[0]!.details as Json).error.message, TOO_MANY);
    });

    it('a success forgets the failures: 9, a right code, 9 more, and the pair is not blocked', async () => {
      const email = uniqueEmail('bf-reset');
      await fail(ctx.server, email, THRESHOLD - 1);
      const ok = await exchange(ctx.server, email, await startCode(email));
      assert.equal(ok.status, 200, ok.text);
      await fail(ctx.server, email, THRESHOLD - 1);
      // Counting started over at the success: the 10th failure since then blocks.
      await fail(ctx.server, email, 1);
      const res = await exchange(ctx.server, email, '000000');
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
      assert.equal((await logsOf('limit_wc', email)).length, 1);
    });

    it('50 concurrent wrong guesses: exactly one limit_wc and a block (counted atomically in the store)', async () => {
      const email = uniqueEmail('bf-race');
      const answers = await Promise.all(Array.from({ length: 50 }, () => exchange(ctx.server, email, '000000')));
      const statuses = answers.map((a) => a.status);
      assert.ok(statuses.every((s) => s === 403 || s === 429), statuses.join(','));
      assert.ok(statuses.filter((s) => s === 403).length >= THRESHOLD, statuses.join(','));
      // Guesses that passed the pair check before the 10th failure committed are still counted; when
      // 20 or more got through, the per-identifier back-off (identifier-limits.ts) rightly trips too
      // and writes its own limit_wc. Exactly one is the pair block's.
      const wc = await logsOf('limit_wc', email);
      assert.equal(wc.filter((l) => /maximum failed login attempts into a single account/.test(l.description ?? '')).length, 1);
      assert.ok(wc.length - 1 <= 1, 'at most one identifier back-off limit_wc');
      const after = await exchange(ctx.server, email, '000000');
      assert.equal(after.status, 429);
    });

    it('every verification counts and honours the block: /passwordless/verify, /co/authenticate, verify_redirect, the hosted page', async () => {
      const spa = (await createClient(ctx.server, {
        app_type: 'spa', cross_origin_authentication: true, allowed_origins: [APP], callbacks: [CALLBACK], grant_types: ['implicit', PASSWORDLESS_OTP_GRANT],
      })).client;
      const web = (await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', PASSWORDLESS_OTP_GRANT] })).client;
      const email = uniqueEmail('bf-all');
      const verify = () => ctx.server.post('/passwordless/verify', { connection: 'email', verification_code: '000000', email, client_id: web.client_id });
      const co = () => ctx.server.post('/co/authenticate', { client_id: spa.client_id, username: email, otp: '000000', realm: 'email', credential_type: PASSWORDLESS_OTP_GRANT }, { origin: APP });
      const link = (lang = 'en') => fetch(`${ctx.server.baseUrl}/passwordless/verify_redirect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': lang, origin: ctx.server.baseUrl },
        body: new URLSearchParams({ client_id: web.client_id, connection: 'email', email, verification_code: '000000' }).toString(),
      });
      /** /authorize → the hosted page → email submitted (a code is sent) → a wrong code posted. */
      async function pageGuess(lang = 'en') {
        const jar = new CookieJar(ctx.server.baseUrl);
        const q = new URLSearchParams({ client_id: web.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 's', ui_locales: lang });
        const login = new URL((await jar.fetch(`/authorize?${q}`)).headers.get('location')!, ctx.server.baseUrl);
        const html = await (await jar.fetch(login.pathname + login.search)).text();
        const form = { state: inputValue(html, 'state')!, _csrf: inputValue(html, '_csrf')! };
        const sent = await jar.postForm('/login/email', { ...form, email });
        assert.equal(sent.status, 303, await sent.clone().text());
        return jar.postForm('/login/code', { ...form, code: '000000' });
      }

      // Ten failures spread over four endpoints block the pair…
      for (let i = 0; i < 3; i++) assert.equal((await verify()).status, 401);
      for (let i = 0; i < 3; i++) assert.equal((await co()).status, 403);
      for (let i = 0; i < 2; i++) assert.equal((await link()).status, 400);
      for (let i = 0; i < 2; i++) assert.equal((await pageGuess()).status, 400);
      assert.equal((await logsOf('limit_wc', email)).length, 1);
      // …for the OTP grant too,
      const token = await exchange(ctx.server, email, '000000');
      assert.deepEqual({ status: token.status, body: token.json() }, { status: 429, body: BLOCKED_BODY });
      // and each of them answers the block in its own way.
      const v = await verify();
      assert.deepEqual({ status: v.status, body: await v.json() }, { status: 429, body: BLOCKED_BODY });
      const c = await co();
      assert.deepEqual({ status: c.status, body: await c.json() }, { status: 429, body: BLOCKED_BODY });
      const fcoa = (await logsOf('fcoa', email)).at(-1)!;
      assert.equal(fcoa.description, TOO_MANY);
      for (const [lang, text] of [['en', PAGE_EN], ['fr', PAGE_FR]] as const) {
        const l = await link(lang);
        assert.equal(l.status, 429);
        assert.ok((await l.text()).includes(`role="alert">${text}</p>`), `verify_redirect in ${lang}`);
        const p = await pageGuess(lang);
        assert.equal(p.status, 429);
        const html = await p.text();
        assert.ok(html.includes(text), `hosted page in ${lang}`);
        assert.match(html, /role="alert"/);
      }
      const pageLog = (await logsOf('f', email)).at(-1)!;
      assert.deepEqual((pageLog.details as Json).error, { message: TOO_MANY, oauthError: 'too_many_attempts' });
    });

    it('options.brute_force_protection: false counts and blocks nothing', async () => {
      const conn = (await ctx.server.services.store.getConnectionByName('email'))!;
      const options = { ...conn.options };
      await mgmt(ctx.server, 'PATCH', `/connections/${conn.id}`, { options: { ...options, brute_force_protection: false } });
      try {
        const email = uniqueEmail('bf-off');
        await fail(ctx.server, email, THRESHOLD + 2);
        assert.equal((await logsOf('limit_wc', email)).length, 0);
      } finally {
        await mgmt(ctx.server, 'PATCH', `/connections/${conn.id}`, { options });
      }
    });

    it('a block lasts 30 days, then the pair starts from zero', async () => {
      const email = uniqueEmail('bf-expiry');
      await block(ctx.server, email);
      try {
        ctx.skew = 30 * DAY - 60_000;
        assert.equal((await exchange(ctx.server, email, '000000')).status, 429);
        ctx.skew = 30 * DAY + 1000;
        await fail(ctx.server, email, THRESHOLD - 1);
        assert.equal((await exchange(ctx.server, email, '000000')).status, 403, 'the 10th failure of the new count');
        assert.equal((await exchange(ctx.server, email, '000000')).status, 429);
        assert.equal((await logsOf('limit_wc', email)).length, 2);
      } finally {
        ctx.skew = 0;
      }
    });

    it('rows that no longer count are purged now and then (1 failure in 100 sweeps)', async () => {
      const [old, blocked, fresh] = [uniqueEmail('bf-old'), uniqueEmail('bf-blocked'), uniqueEmail('bf-fresh')];
      const { store } = ctx.server.services;
      const row = (identifier: string) => store.getLoginBlock({ identifier, ip: '127.0.0.1', connection: 'email' });
      const random = Math.random;
      try {
        ctx.skew = -DAY; // a failure a day before the block below
        await fail(ctx.server, old, 1);
        ctx.skew = 0;
        await block(ctx.server, blocked);
        ctx.skew = 30 * DAY - 1000;
        Math.random = () => 0; // the sweep's odds, forced for one failure
        await fail(ctx.server, fresh, 1);
      } finally {
        Math.random = random;
        ctx.skew = 0;
      }
      assert.equal(await row(old), undefined, 'failures past their window are gone');
      assert.equal((await row(blocked))?.failures, THRESHOLD, 'a running block stays (refused guesses are not counted)');
      assert.equal((await row(fresh))?.failures, 1);
      // Read at once (one batched query on PostgreSQL), each pair gets its own state; another IP has none.
      const together = await Promise.all([row(fresh), store.getLoginBlock({ identifier: blocked, ip: '10.0.0.1', connection: 'email' }), row(blocked), row(old)]);
      assert.deepEqual(together.map((r) => r?.failures), [1, undefined, THRESHOLD, undefined]);
      assert.ok(together[2]!.blocked_until! > Date.now());
    });
  });
}
