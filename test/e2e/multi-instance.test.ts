import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { MGMT, type TestServer } from '../helpers/boot.ts';
import { BLOCKED_BODY, THRESHOLD, postFrom } from '../helpers/brute-force.ts';
import { ISSUER, type Management, exchangeCode, management, passwordlessClient, postJson, query, startInstance } from '../helpers/instances.ts';
import type { ServerProcess } from '../helpers/server-process.ts';
import { type TwilioServer, startTwilioServer } from '../helpers/sms-servers.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';
import { MAX_STALE_MS } from '../../src/store/sql/ref-cache.ts';

/**
 * How long after a write's response another instance may still act on the old reference data
 * (clients, connections, settings). README ("Several instances"): on PostgreSQL the change is pushed
 * to every instance by NOTIFY (a few ms here), and the version row is read again at least every
 * MAX_STALE_MS, so "within a second" at worst.
 */
const REF_PROMISE_MS = MAX_STALE_MS;
/** src/core/keys.ts KEY_FRESHNESS_MS, plus one store read: how late a rotation reaches another instance. */
const KEY_PROMISE_MS = 1500;
const START_LIMIT = 10;
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };
const LOG_SECRET = 'log-stream-signing-secret-0123456789abcdef';

/** A request from a loopback address of its own (127.0.0.0/8 all reach 127.0.0.1): one client IP. */
const from = (base: string, ip: string, path: string, body: Record<string, string>) => postFrom({ baseUrl: base } as TestServer, ip, path, body);

/** Retries `check` until it holds or `ms` has passed (at least once). */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= end) assert.fail(`${what} (not within ${ms} ms)`);
    await sleep(50);
  }
}

/** A log stream receiver that keeps every log_id it is sent, in order, once per delivery. */
class Receiver {
  received: string[] = [];
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-sesame-signature'])) ?? [];
      if (v1 !== createHmac('sha256', LOG_SECRET).update(`${t}.${body}`).digest('hex')) {
        res.writeHead(401).end();
        return;
      }
      for (const line of body.split('\n')) if (line) this.received.push((JSON.parse(line) as { log_id: string }).log_id);
      res.writeHead(200).end();
    });
  });
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/ingest`;
  }
  close = () => new Promise<void>((r) => this.#server.close(() => r()));
}

/**
 * A load balancer in a few lines: round-robin over `targets`, appending the address it saw to
 * X-Forwarded-For, as nginx's `$proxy_add_x_forwarded_for` and cloud balancers do.
 */
async function loadBalancer(targets: string[]): Promise<{ url: string; close(): Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    const target = new URL(targets[n++ % targets.length]!);
    const xff = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-for': xff } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * @see issue 13 §2: two Sesame processes on one PostgreSQL database behave as one. Every request here
 * goes to A or B as a load balancer would send it; nothing is read from either process's memory.
 * PostgreSQL only: several instances need a shared database (SQLite is one process's file).
 */
const pgMatrix = (await backendMatrix()).filter((b) => b.backend === 'postgres');
for (const { skip } of pgMatrix) {
  describe('two instances on one database [postgres]', { skip }, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let sink: SmtpSink;
    let twilio: TwilioServer;
    const receiver = new Receiver();
    let a: ServerProcess;
    let b: ServerProcess;
    let apiA: Management;
    let client_id: string;
    let connectionId: string;
    let ipN = 0;
    /** A fresh client IP, so the per-IP start limit of one test never counts another's. */
    const newIp = () => `127.0.${10 + Math.floor(++ipN / 250)}.${(ipN % 250) + 1}`;
    let emailN = 0;
    const newEmail = (tag: string) => `${tag}.${++emailN}@example.com`;
    /** A start from a fresh IP through `base`; the code that arrives at the sink. */
    const code = async (base: string, email: string) => {
      const res = await from(base, newIp(), '/passwordless/start', { client_id, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, res.text);
      return extractCode(await sink.waitFor((m) => m.to === email, 15_000));
    };

    before(async () => {
      db = await freshDatabase('postgres');
      sink = await startSmtpSink();
      twilio = await startTwilioServer();
      // The test's proxy (below) runs on 127.0.0.1: only it may name the client.
      const env = { SESAME_TRUST_PROXY: '127.0.0.1', SESAME_SMTP_URL: sink.url, SESAME_TWILIO_API_URL: twilio.url, SESAME_START_LIMIT_PER_HOUR: String(START_LIMIT), SESAME_IDENTIFIER_STARTS_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_DAY: '0' };
      // Both start at once, as a deployment does: the migrations run once (kysely's migration lock).
      [a, b] = await Promise.all([startInstance(db.url, env), startInstance(db.url, env)]);
      apiA = await management(a.baseUrl);
      ({ client_id, connectionId } = await passwordlessClient(apiA));
    });
    after(async () => {
      const codes = await Promise.all([a?.stop(), b?.stop()]);
      await receiver.close().catch(() => {});
      await twilio?.close();
      await sink?.close();
      await db?.drop();
      assert.deepEqual(codes, [0, 0], 'both instances exit cleanly');
    });

    it('a code started on A is exchanged on B', async () => {
      const email = newEmail('ab');
      const otp = await code(a.baseUrl, email);
      const res = await exchangeCode(b.baseUrl, client_id, email, otp);
      assert.equal(res.status, 200, await res.clone().text());
      // …and it is spent everywhere.
      assert.equal((await exchangeCode(a.baseUrl, client_id, email, otp)).status, 403);
    });

    it('counts attempts across both: three in total, however the guesses are spread', async () => {
      // Sequential: two wrong on A, one wrong on B. The budget is gone on both.
      const e1 = newEmail('seq');
      const otp1 = await code(a.baseUrl, e1);
      for (const base of [a.baseUrl, a.baseUrl, b.baseUrl]) assert.deepEqual(await (await exchangeCode(base, client_id, e1, '000000')).json(), WRONG);
      assert.equal((await exchangeCode(a.baseUrl, client_id, e1, otp1)).status, 403, 'per-instance counting would leave A one attempt');

      // Concurrent: three wrong guesses at once over both, then the right code: refused.
      const e2 = newEmail('conc');
      const otp2 = await code(b.baseUrl, e2);
      const wrong = await Promise.all([a.baseUrl, b.baseUrl, a.baseUrl].map((base) => exchangeCode(base, client_id, e2, '000000')));
      assert.deepEqual(wrong.map((r) => r.status), [403, 403, 403]);
      assert.equal((await exchangeCode(b.baseUrl, client_id, e2, otp2)).status, 403);

      // Concurrent: ten guesses at once over both, the right one among them: at most three are
      // compared, so the right one wins only if it is among the first three.
      const e3 = newEmail('race');
      const otp3 = await code(a.baseUrl, e3);
      const guesses = Array.from({ length: 10 }, (_, i) => (i === 9 ? otp3 : String(100000 + i)));
      const answers = await Promise.all(guesses.map((g, i) => exchangeCode(i % 2 ? a.baseUrl : b.baseUrl, client_id, e3, g)));
      assert.ok(answers.filter((r) => r.status === 200).length <= 1);
      // Afterwards nothing gets in, whatever the instance.
      // (403 spent, or 429: ten failures from one IP also block the pair, brute-force.ts.)
      for (const base of [a.baseUrl, b.baseUrl]) assert.notEqual((await exchangeCode(base, client_id, e3, otp3)).status, 200);
    });

    it('a client, connection or flag changed through A is in force on B as promised', async () => {
      const api = apiA;
      const start = (id: string, extra: Record<string, string> = {}) => from(b.baseUrl, newIp(), '/passwordless/start', { client_id: id, connection: 'email', email: newEmail('ref'), send: 'code', ...extra });
      const made = await passwordlessClient(api);
      assert.equal((await start(made.client_id)).status, 200, 'B serves the new client at once');

      // Connection: disabled for the client through A.
      assert.equal((await api('PATCH', `/connections/${connectionId}/clients`, [{ client_id: made.client_id, status: false }])).status, 204);
      await within(REF_PROMISE_MS, 'B refuses a client the connection no longer enables', async () => (await start(made.client_id)).status === 400);
      assert.equal((await api('PATCH', `/connections/${connectionId}/clients`, [{ client_id: made.client_id, status: true }])).status, 204);
      await within(REF_PROMISE_MS, 'B serves it again', async () => (await start(made.client_id)).status === 200);

      // Client: the passwordless grant taken away through A.
      assert.equal((await api('PATCH', `/clients/${made.client_id}`, { grant_types: [] })).status, 200);
      await within(REF_PROMISE_MS, 'B refuses a client without the grant', async () => (await start(made.client_id)).status === 403);

      // Flag: enforcement turned on through A; a confidential client that does not authenticate.
      const conf = await passwordlessClient(api, { app_type: 'regular_web', callbacks: ['https://app.example.com/cb'] });
      assert.equal((await start(conf.client_id)).status, 200, 'enforcement off: served, with a depnote');
      const flag = (on: boolean) => api('PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: on } });
      assert.equal((await flag(true)).status, 200);
      try {
        await within(REF_PROMISE_MS, 'B enforces client authentication', async () => [401, 403].includes((await start(conf.client_id)).status));
      } finally {
        assert.equal((await flag(false)).status, 200);
      }
      await within(REF_PROMISE_MS, 'B stops enforcing', async () => (await start(conf.client_id)).status === 200);
    });

    it('shares the per-IP start limit', async () => {
      const ip = newIp();
      const answers: number[] = [];
      for (let i = 0; i <= START_LIMIT; i++) {
        const res = await from(i % 2 ? a.baseUrl : b.baseUrl, ip, '/passwordless/start', { client_id, connection: 'email', email: newEmail('lim'), send: 'code' });
        answers.push(res.status);
      }
      assert.deepEqual(answers, [...Array(START_LIMIT).fill(200), 429], 'the limit counts starts on both');
    });

    it('shares brute-force blocks', async () => {
      const ip = newIp();
      const email = newEmail('bf');
      const body = (otp: string) => ({ grant_type: PASSWORDLESS_OTP_GRANT, client_id, username: email, otp, realm: 'email' });
      for (let i = 0; i < THRESHOLD; i++) {
        const res = await from(i % 2 ? a.baseUrl : b.baseUrl, ip, '/oauth/token', body('000000'));
        assert.deepEqual(res.json(), WRONG, `guess ${i + 1}`);
      }
      for (const base of [a.baseUrl, b.baseUrl]) {
        const res = await from(base, ip, '/oauth/token', body('000000'));
        assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
      }
    });

    it('shares the SMS guards', async () => {
      const sms = await apiA('POST', '/connections', {
        name: 'sms-shared',
        strategy: 'sms',
        options: { provider: 'twilio', twilio_sid: twilio.accountSid, twilio_token: twilio.authToken, from: '+15005550006', fraud_guards: { per_number: { max: 3, window_seconds: 3600 } } },
        enabled_clients: [client_id],
      });
      assert.equal(sms.status, 201, JSON.stringify(sms.body));
      const phone = '+14155550142';
      const answers: number[] = [];
      for (const base of [a.baseUrl, b.baseUrl, a.baseUrl, b.baseUrl]) {
        answers.push((await from(base, newIp(), '/passwordless/start', { client_id, connection: 'sms-shared', phone_number: phone, send: 'code' })).status);
      }
      assert.deepEqual(answers, [200, 200, 200, 429], 'the per-number guard counts sends through both');
      assert.equal(twilio.messages.length, 3);
    });

    it('behind a load balancer, limits and logged IPs are the clients\' (SESAME_TRUST_PROXY)', async () => {
      const lb = await loadBalancer([a.baseUrl, b.baseUrl]);
      try {
        const [x, y] = [newIp(), newIp()];
        const start = (ip: string, email: string, headers: Record<string, string> = {}) =>
          postFrom({ baseUrl: lb.url } as TestServer, ip, '/passwordless/start', { client_id, connection: 'email', email, send: 'code' }, { headers });
        const answers: number[] = [];
        for (let i = 0; i <= START_LIMIT; i++) answers.push((await start(x, newEmail('lbx'))).status);
        assert.deepEqual(answers, [...Array(START_LIMIT).fill(200), 429], 'client x has its own budget, counted over both instances');
        // A forged header is only a hop further out: the balancer's own entry names x.
        assert.equal((await start(x, newEmail('lbx'), { 'x-forwarded-for': '203.0.113.9' })).status, 429);
        // Client y, behind the same balancer, is untouched by x's limit.
        const email = newEmail('lby');
        assert.equal((await start(y, email)).status, 200);
        const rows = await query<{ ip: string }>(db.url, `select ip from logs where type = 'cs' and doc like '%${email}%'`);
        assert.deepEqual(rows.map((r) => r.ip), [y], "the log records the client's address, not the balancer's");
      } finally {
        await lb.close();
      }
    });

    it('a burst of 300 starts over both: exactly one mail per start at the sink', async () => {
      const emails = Array.from({ length: 300 }, () => newEmail('burst'));
      const ips = Array.from({ length: 40 }, newIp); // under the per-IP limit
      let next = 0;
      const bad: string[] = [];
      const lane = async () => {
        while (next < emails.length) {
          const i = next++;
          const res = await from(i % 2 ? a.baseUrl : b.baseUrl, ips[i % ips.length]!, '/passwordless/start', { client_id, connection: 'email', email: emails[i]!, send: 'code' });
          if (res.status !== 200) bad.push(`${res.status} ${res.text}`);
        }
      };
      await Promise.all(Array.from({ length: 30 }, lane));
      assert.deepEqual(bad, []);
      const want = new Set(emails);
      const count = () => sink.messages.filter((m) => want.has(m.to)).length;
      await within(30_000, 'all 300 delivered', async () => count() >= 300);
      await sleep(2000); // a second sending of any row would arrive by now
      const per = new Map<string, number>();
      for (const m of sink.messages) if (want.has(m.to)) per.set(m.to, (per.get(m.to) ?? 0) + 1);
      assert.equal(per.size, 300);
      assert.deepEqual([...per.values()].filter((n) => n !== 1), [], 'no outbox row sent twice');
    });

    it('a signing-key rotation through A is served by B, and tokens of either verify on both', async () => {
      const token = async (base: string) => {
        const res = await postJson(base, '/oauth/token', { grant_type: 'client_credentials', ...MGMT, audience: `${ISSUER}api/v2/` });
        return ((await res.json()) as { access_token: string }).access_token;
      };
      const kids = async (base: string) => ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      const before = await token(b.baseUrl);
      const rotated = await apiA('POST', '/keys/signing/rotate');
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
      const kid = rotated.body.kid as string;
      await within(KEY_PROMISE_MS, "B's JWKS publishes the new key", async () => (await kids(b.baseUrl)).includes(kid));
      await within(KEY_PROMISE_MS, 'B signs with the new key', async () => decodeProtectedHeader(await token(b.baseUrl)).kid === kid);
      const tokens = [before, await token(a.baseUrl), await token(b.baseUrl)];
      for (const base of [a.baseUrl, b.baseUrl]) {
        const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
        for (const t of tokens) await jwtVerify(t, jwks, { issuer: ISSUER });
      }
    });

    it('a log stream delivers each log once with both running, including a log committed late', async () => {
      const url = await receiver.listen();
      const made = await apiA('POST', '/log-streams', { name: 'both', type: 'http', sink: { httpEndpoint: url, httpContentFormat: 'JSONLINES', httpContentType: 'application/x-ndjson', signingSecret: LOG_SECRET } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        // A transaction that takes its time: its log is stamped now and committed 1.5 s later,
        // while both instances write newer logs (as a slow request on a third instance would).
        await c.query('BEGIN');
        const [row] = (await c.query("select * from logs order by log_id desc limit 1")).rows as Record<string, unknown>[];
        const lateId = `90${String(Date.now()).padStart(15, '0')}999999999${'0'.repeat(30)}`;
        await c.query('insert into logs select $1 as log_id, l.date, l.type, l.description, l.client_id, l.client_name, l.connection, l.connection_id, l.ip, l.hostname, l.user_agent, l.user_id, l.user_name, l.audience, l.scope, l.strategy, l.strategy_type, replace(l.doc, l.log_id, $1) from logs l where l.log_id = $2', [lateId, row!.log_id]);
        const loads = Array.from({ length: 40 }, (_, i) => from(i % 2 ? a.baseUrl : b.baseUrl, newIp(), '/passwordless/start', { client_id, connection: 'email', email: newEmail('logs'), send: 'code' }));
        await sleep(1500);
        await c.query('COMMIT');
        await Promise.all(loads);
        // Everything from the stream's first delivered log on (a new stream starts at its creation).
        await within(20_000, 'every log delivered', async () => {
          if (receiver.received.length === 0) return false;
          const first = receiver.received.reduce((m, id) => (id < m ? id : m));
          const all = (await c.query<{ log_id: string }>('select log_id from logs where log_id >= $1', [first])).rows.map((r) => r.log_id);
          const got = new Set(receiver.received);
          return got.has(lateId) && all.every((id) => got.has(id));
        });
        assert.equal(new Set(receiver.received).size, receiver.received.length, 'no log delivered twice');
      } finally {
        await c.end();
      }
    });
  });
}
