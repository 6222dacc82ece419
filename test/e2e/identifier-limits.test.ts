import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOO_MANY_STARTS } from '../../src/core/identifier-limits.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { BLOCKED_BODY, exchange, postFrom } from '../helpers/brute-force.ts';
import { CookieJar, inputValue } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';

const HOUR = 3_600_000;
const PER_HOUR = 3;
const PER_DAY = 5;
const FAILURES = 4;
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };
/** A different loopback address for every call: no per-IP limit or pair ever fills up. */
let lastOctet = 10;
const nextIp = () => `127.0.${Math.floor(++lastOctet / 250)}.${(lastOctet % 250) + 2}`;

/**
 * Issue 10 §2: limits per identifier that hold whatever the IP. Starts are capped per hour and per
 * day (429 too_many_requests, one `limit_mu` per episode); failed verifications from all IPs past a
 * threshold make each next guess wait 60 s, 120 s, … (429 too_many_attempts + Retry-After, one
 * `limit_wc`), rather than a 30-day lockout; `/api/v2/user-blocks` lists and lifts both.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`per-identifier limits across IPs [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, {
      clock: true,
      env: {
        SESAME_IDENTIFIER_STARTS_PER_HOUR: String(PER_HOUR),
        SESAME_IDENTIFIER_STARTS_PER_DAY: String(PER_DAY),
        SESAME_IDENTIFIER_FAILURE_LIMIT: String(FAILURES),
        SESAME_IDENTIFIER_MAX_DELAY_SECONDS: '120',
      },
    });
    const taken = new Set<SinkMessage>();
    const start = (email: string, ip = nextIp()) =>
      postFrom(ctx.server, ip, '/passwordless/start', { ...ctx.server.defaultApp, connection: 'email', email, send: 'code' });
    async function startCode(email: string): Promise<string> {
      const res = await start(email);
      assert.equal(res.status, 200, res.text);
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m));
      taken.add(mail);
      return extractCode(mail);
    }
    const logsOf = async (type: string, email: string) =>
      (await ctx.server.services.store.logsAfter(null, 100_000)).filter((l) => l.type === type && l.user_name?.toLowerCase() === email);
    const blocksOf = (email: string) => mgmt(ctx.server, 'GET', `/user-blocks?identifier=${encodeURIComponent(email)}`);
    const retryAfter = (res: Response) => Number(res.headers.get('retry-after'));
    const unblock = async (email: string) => {
      const res = await fetch(`${ctx.server.baseUrl}/api/v2/user-blocks?identifier=${encodeURIComponent(email)}`, {
        method: 'DELETE', headers: { authorization: `Bearer ${await ctx.server.mgmtToken()}` },
      });
      assert.equal(res.status, 204);
    };
    const token = (email: string, otp: string) => fetch(`${ctx.server.baseUrl}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp', ...ctx.server.defaultApp, username: email, otp, realm: 'email' }),
    });

    it('starts per identifier are capped per hour and per day from any IP; one limit_mu per episode; user-blocks lists and lifts the cap', async () => {
      const email = uniqueEmail('cap');
      try {
        for (let i = 0; i < PER_HOUR; i++) assert.equal((await start(i === 1 ? email.toUpperCase() : email)).status, 200);
        for (let i = 0; i < 2; i++) {
          const res = await fetch(`${ctx.server.baseUrl}/passwordless/start`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...ctx.server.defaultApp, connection: 'email', email, send: 'code' }),
          });
          assert.deepEqual({ status: res.status, body: await res.json() }, { status: 429, body: { error: 'too_many_requests', error_description: TOO_MANY_STARTS } });
          assert.ok(retryAfter(res) > HOUR / 1000 - 60 && retryAfter(res) <= HOUR / 1000, String(retryAfter(res)));
        }
        // Another identifier is not affected.
        assert.equal((await start(uniqueEmail('cap-other'))).status, 200);
        const [mu, ...more] = await logsOf('limit_mu', email);
        assert.equal(more.length, 0, 'one limit_mu per episode');
        assert.equal((mu!.details as Record<string, any>).limit.bucket, 'identifier-starts-per_hour');
        assert.deepEqual(await blocksOf(email), { blocked_for: [{ identifier: email, connection: 'email' }] });

        // An hour on, the hourly cap has room again but the day's is reached after two more.
        ctx.skew = HOUR + 1000;
        for (let i = 0; i < PER_DAY - PER_HOUR; i++) assert.equal((await start(email)).status, 200);
        const daily = await start(email);
        assert.deepEqual({ status: daily.status, body: daily.json() }, { status: 429, body: { error: 'too_many_requests', error_description: TOO_MANY_STARTS } });
        const logs = await logsOf('limit_mu', email);
        assert.equal(logs.length, 2);
        assert.equal((logs[1]!.details as Record<string, any>).limit.bucket, 'identifier-starts-per_day');

        // DELETE /user-blocks lifts the cap and forgets the count.
        await unblock(email);
        assert.deepEqual(await blocksOf(email), { blocked_for: [] });
        for (let i = 0; i < PER_HOUR; i++) assert.equal((await start(email)).status, 200);
        assert.equal((await start(email)).status, 429);
        assert.equal((await logsOf('cs', email)).length, PER_DAY + PER_HOUR, 'a refused start sends nothing');
      } finally {
        ctx.skew = 0;
      }
    });

    it('a blocked user\'s starts meet the same cap, so neither the 200 nor the 429 tells a block apart', async () => {
      const email = uniqueEmail('cap-blocked');
      const user = await mgmt(ctx.server, 'POST', '/users', { connection: 'email', email, email_verified: true });
      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(user.user_id)}`, { blocked: true });
      for (let i = 0; i < PER_HOUR; i++) assert.equal((await start(email)).status, 200);
      const capped = await start(email);
      assert.deepEqual({ status: capped.status, body: capped.json() }, { status: 429, body: { error: 'too_many_requests', error_description: TOO_MANY_STARTS } });
      assert.equal((await logsOf('cs', email)).length, 0, 'a blocked user is sent nothing');
      assert.equal((await logsOf('f', email)).length, PER_HOUR);
      assert.equal((await logsOf('limit_mu', email)).length, 1);
      await unblock(email);
    });

    it('failures from many IPs put the identifier in back-off: 60 s, then 120 s waits; the code is not spent while waiting; a success starts over', async () => {
      const email = uniqueEmail('backoff');
      try {
        // Every guess from a new address: no pair ever reaches Auth0's 10 (and no code exists yet).
        for (let i = 0; i < FAILURES; i++) {
          const res = await exchange(ctx.server, email, '000000', nextIp());
          assert.deepEqual({ status: res.status, body: res.json() }, { status: 403, body: WRONG }, `guess ${i + 1}`);
        }
        const wc = await logsOf('limit_wc', email);
        assert.equal(wc.length, 1);
        assert.equal((wc[0]!.details as Record<string, any>).scope, 'identifier');

        const waiting = await token(email, '000000');
        assert.deepEqual({ status: waiting.status, body: await waiting.json() }, { status: 429, body: BLOCKED_BODY });
        assert.ok(retryAfter(waiting) > 55 && retryAfter(waiting) <= 60, String(retryAfter(waiting)));
        assert.deepEqual(await blocksOf(email), { blocked_for: [{ identifier: email, connection: 'email' }] });

        // The wait is over: one guess goes through (a wrong one), and the next wait doubles.
        ctx.skew = 61_000;
        assert.equal((await exchange(ctx.server, email, '000000', nextIp())).status, 403);
        // The real user asks for a code: even the right one is refused while the wait runs, unspent.
        const code = await startCode(email);
        const again = await token(email, code);
        assert.deepEqual(await again.clone().json(), BLOCKED_BODY);
        assert.equal(again.status, 429);
        assert.ok(retryAfter(again) > 115 && retryAfter(again) <= 120, String(retryAfter(again)));

        // After it, the real user's code signs in and clears the count.
        ctx.skew = 61_000 + 121_000;
        const ok = await exchange(ctx.server, email, code, nextIp());
        assert.equal(ok.status, 200, ok.text);
        for (let i = 0; i < FAILURES - 1; i++) assert.equal((await exchange(ctx.server, email, '000000', nextIp())).status, 403);
        assert.deepEqual(await blocksOf(email), { blocked_for: [] });
      } finally {
        ctx.skew = 0;
      }
    });

    it('in back-off, of many racing guesses exactly one goes through per wait; at the threshold exactly one limit_wc', async () => {
      const email = uniqueEmail('race');
      const first = await Promise.all(Array.from({ length: 12 }, () => exchange(ctx.server, email, '000000', nextIp())));
      assert.ok(first.every((r) => r.status === 403 || r.status === 429), first.map((r) => r.status).join());
      assert.equal((await logsOf('limit_wc', email)).length, 1);
      try {
        ctx.skew = 10 * 60_000; // past any wait the burst set
        const burst = await Promise.all(Array.from({ length: 12 }, () => exchange(ctx.server, email, '000000', nextIp())));
        const statuses = burst.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 403).length, 1, statuses.join());
        assert.equal(statuses.filter((s) => s === 429).length, 11, statuses.join());
      } finally {
        ctx.skew = 0;
      }
    });

    it('the hosted page counts its sends against the same cap and says so in the page language', async () => {
      const CALLBACK = 'https://app.example.com/callback';
      const web = (await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code'] })).client;
      const email = uniqueEmail('cap-page');
      /** A fresh /authorize → hosted page → email submitted. */
      async function pageSend(lang: string) {
        const jar = new CookieJar(ctx.server.baseUrl);
        const q = new URLSearchParams({ client_id: web.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 's', ui_locales: lang });
        const login = new URL((await jar.fetch(`/authorize?${q}`)).headers.get('location')!, ctx.server.baseUrl);
        const html = await (await jar.fetch(login.pathname + login.search)).text();
        return jar.postForm('/login/email', { state: inputValue(html, 'state')!, _csrf: inputValue(html, '_csrf')!, email });
      }
      for (let i = 0; i < PER_HOUR; i++) assert.equal((await pageSend('en')).status, 303);
      for (const [lang, text] of [['en', 'Too many sign-in emails were requested for this address.'], ['fr', 'Trop d’e-mails de connexion ont été demandés pour cette adresse.']]) {
        const res = await pageSend(lang!);
        assert.equal(res.status, 429);
        assert.ok(Number(res.headers.get('retry-after')) > 0);
        assert.ok((await res.text()).includes(text!), lang);
      }
    });

    it('a back-off and a start cap of one identifier are listed once, and DELETE /user-blocks lifts both at once', async () => {
      const email = uniqueEmail('lift');
      for (let i = 0; i < FAILURES; i++) await exchange(ctx.server, email, '000000', nextIp());
      assert.equal((await exchange(ctx.server, email, '000000', nextIp())).status, 429);
      for (let i = 0; i < PER_HOUR; i++) assert.equal((await start(email)).status, 200);
      assert.equal((await start(email)).status, 429);
      assert.deepEqual(await blocksOf(email), { blocked_for: [{ identifier: email, connection: 'email' }] });
      await unblock(email);
      assert.deepEqual(await blocksOf(email), { blocked_for: [] });
      assert.equal((await exchange(ctx.server, email, '000000', nextIp())).status, 403);
      assert.equal((await start(email)).status, 200);
    });
  });
}
