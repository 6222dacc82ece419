import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { wantedBackends } from '../helpers/backends.ts';
import { MGMT } from '../helpers/boot.ts';
import { NO_LIMITS, exchangeCode, management, passwordlessClient, startCode } from '../helpers/instances.ts';
import { DRIVER_TEXT, health, outageRig, until } from '../helpers/outage.ts';
import { type PgCluster, privateClusterSkip, startPgCluster } from '../helpers/pg-cluster.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** Longer than the pool's 5 s connect timeout (src/store/sql/dialect.ts): past it, a request hangs. */
const REQUEST_TIMEOUT_MS = 8000;

/**
 * Issue 13 §3: a real PostgreSQL restart (the postmaster stops, fast: every session terminated, then
 * nothing listens; then a new postmaster on the same data). db-outage.test.ts plays the blip on the
 * shared server with pg_terminate_backend and ALLOW_CONNECTIONS; restarting that server would
 * disturb every file running beside this one, so this test restarts a cluster of its own.
 *
 * Under load, Sesame (a process of its own, so a crash is an exit) answers every request 200 or a
 * clean 503 within a bounded time, /health is 503 while PostgreSQL is down and 200 within seconds
 * of its return, the process lives on, and nothing it accepted is lost: each start answered 200
 * before, during or after gets its mail, once, and a code issued before the restart is still good.
 */
if (wantedBackends().includes('postgres')) {
  const skip = privateClusterSkip('the PostgreSQL restart test');
  describe('a real PostgreSQL restart under load [postgres]', { skip }, () => {
    let cluster: PgCluster | undefined;
    const rig = outageRig(
      {
        SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret,
        SESAME_LOG_LEVEL: 'warn', SESAME_LOG_FORMAT: 'json', ...NO_LIMITS,
      },
      async () => {
        cluster = await startPgCluster();
        return { url: cluster.url, adminUrl: cluster.adminUrl, drop: () => cluster!.destroy() };
      },
    );
    // Registered after the rig's: the server stops first. Again here in case the rig's after() failed early.
    after(() => cluster?.destroy());

    it('answers 200 or a clean 503 through the restart, recovers by itself, and loses nothing it accepted', async (t) => {
      const { srv, sink } = rig;
      const pgc = cluster!;
      const base = srv.baseUrl;
      const t0 = Date.now();
      const api = await management(base, `${base.replace('127.0.0.1', 'localhost')}/`);
      const { client_id } = await passwordlessClient(api);

      // A code issued before the restart, to be exchanged after it.
      const early = 'before-restart@example.com';
      assert.equal((await startCode(base, client_id, early)).status, 200);
      const earlyCode = extractCode(await sink.waitFor((m) => m.to === early));

      type Phase = 'before' | 'down' | 'after';
      let phase: Phase = 'before';
      /** Starts answered 200, by the phase they were sent in: each must be delivered. */
      const accepted: { email: string; phase: Phase }[] = [];
      /** Starts answered 503: the client was told to retry; a mail may come or not. */
      const refused: string[] = [];
      const seen = new Map<string, number>();
      const bad: string[] = [];
      let slowest = 0;
      /** When each accepted start was answered, to see how soon starts go through again. */
      const acceptedAt: number[] = [];
      let loading = true;

      /** One request, bounded; anything but a 200 or a clean 503 goes to `bad` (never a throw: the other loops run on). */
      const call = async (what: string, send: (signal: AbortSignal) => Promise<Response>): Promise<number | undefined> => {
        const sent = Date.now();
        const at = phase;
        let res: Response;
        let text: string;
        try {
          res = await send(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
          text = await res.text();
        } catch (err) {
          bad.push(`${what} (${at}): no answer (${(err as Error).name === 'TimeoutError' ? `none within ${REQUEST_TIMEOUT_MS} ms` : (err as Error).message})`);
          return undefined;
        }
        const ms = Date.now() - sent;
        slowest = Math.max(slowest, ms);
        if (ms > 2000) t.diagnostic(`${what} (${at}) took ${ms} ms → ${res.status}`);
        const key = `${what} ${at} ${res.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (res.status !== 200 && res.status !== 503) bad.push(`${what} (${at}) → ${res.status} ${text.slice(0, 200)}`);
        if (DRIVER_TEXT.test(text)) bad.push(`${what} (${at}): driver text leaked: ${text.slice(0, 200)}`);
        if (res.status === 503) {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            bad.push(`${what} (${at}): 503 body is not JSON: ${text.slice(0, 200)}`);
          }
          // /health has its own body; the authentication API Auth0's { error, error_description }, retryable.
          const shaped = what === '/health'
            ? body.status === 'unavailable' && body.database === 'unreachable'
            : body.error === 'temporarily_unavailable' && typeof body.error_description === 'string' && Object.keys(body).length === 2 && !!res.headers.get('retry-after');
          if (!shaped) bad.push(`${what} (${at}): 503 without its envelope${what === '/health' ? '' : ' or Retry-After'}: ${text.slice(0, 200)}`);
        }
        return res.status;
      };

      /** A crash is an exit: say so rather than time out waiting for /health. */
      const healthIs = (status: number) => async () => {
        if (srv.exitCode() !== undefined || srv.child.signalCode) throw new Error(`Sesame exited (${srv.exitCode() ?? srv.child.signalCode}):\n${srv.output().slice(-2000)}`);
        return (await health(base)) === status;
      };

      let n = 0;
      const starts = async () => {
        while (loading) {
          const email = `restart${n++}@example.com`;
          const at = phase;
          const status = await call('/passwordless/start', (signal) =>
            fetch(`${base}/passwordless/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id, connection: 'email', email, send: 'code' }), signal }),
          );
          if (status === 200) {
            accepted.push({ email, phase: at });
            acceptedAt.push(Date.now());
          }
          if (status === 503) refused.push(email);
        }
      };
      const probes = async () => {
        while (loading) {
          await call('/health', (signal) => fetch(`${base}/health`, { signal }));
          await sleep(20);
        }
      };

      t.diagnostic(`server up on the private cluster (port ${pgc.port}), load starts at ${Date.now() - t0} ms`);
      const loops = [starts(), starts(), starts(), probes()];
      let down = 0;
      let back = 0;
      let downToHealth503 = Infinity;
      let recovered = Infinity;
      try {
        await sleep(500);
        // The restart, in two steps so that the time PostgreSQL is away is long enough to be seen.
        phase = 'down';
        down = Date.now();
        await pgc.stop();
        await until(healthIs(503), '/health to answer 503 while PostgreSQL is down', 5000);
        downToHealth503 = Date.now() - down;
        await sleep(1000);
        await pgc.start();
        back = Date.now();
        await until(healthIs(200), '/health to answer 200 once PostgreSQL is back', 10_000);
        recovered = Date.now() - back;
        phase = 'after';
        await sleep(1000);
      } finally {
        loading = false;
        await Promise.all(loops);
      }

      const firstStart = acceptedAt.find((at) => at >= back);
      t.diagnostic(`PostgreSQL away ${back - down} ms (pg_ctl stop to pg_ctl start returning); /health 503 ${downToHealth503} ms after the stop began; once it was back, /health 200 after ${recovered} ms, first start accepted after ${firstStart === undefined ? '(none)' : `${firstStart - back} ms`}`);
      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries([...seen].sort()))}; slowest ${slowest} ms; load done at ${Date.now() - t0} ms`);
      assert.deepEqual(bad, []);
      assert.equal(srv.exitCode(), undefined, srv.output().slice(-2000));
      assert.ok(recovered < 5000, `/health recovered ${recovered} ms after PostgreSQL was back`);
      // The restart was seen by the load, and the load went through on both sides of it.
      assert.ok((seen.get('/passwordless/start down 503') ?? 0) > 0, 'no start saw PostgreSQL down');
      assert.ok((seen.get('/health down 503') ?? 0) > 0, 'no probe saw PostgreSQL down');
      for (const p of ['before', 'after'] as const) assert.ok(accepted.some((a) => a.phase === p), `no start accepted ${p} the restart`);
      // Recovered means recovered: once /health says 200, starts are not refused any more.
      assert.equal(seen.get('/passwordless/start after 503'), undefined, 'a start refused after /health recovered');

      // Nothing accepted is lost: every start answered 200 gets its mail, and only one during the test.
      // (Not "ever": a batch whose sends straddle the stop cannot be marked sent, and the mail worker,
      // at-least-once on purpose, sends it again when its 60 s lease runs out; src/mail/worker.ts #markSent.)
      const mails = () => sink.messages.filter((m) => m.to !== early);
      const wanted = new Set(accepted.map((a) => a.email));
      await until(async () => { const got = new Set(mails().map((m) => m.to)); return [...wanted].every((e) => got.has(e)); }, `all ${wanted.size} accepted starts delivered`, 15_000);
      const counts = new Map<string, number>();
      for (const m of mails()) counts.set(m.to, (counts.get(m.to) ?? 0) + 1);
      assert.deepEqual([...counts].filter(([, c]) => c !== 1), [], 'a mail delivered more than once');
      const strangers = [...counts.keys()].filter((e) => !wanted.has(e) && !refused.includes(e));
      assert.deepEqual(strangers, [], 'mail to an address no start asked for');
      // A start answered 503 may have committed before its connection died: its mail is a bonus, not a loss.
      t.diagnostic(`${accepted.length} starts accepted (${(['before', 'down', 'after'] as const).map((p) => `${p} ${accepted.filter((a) => a.phase === p).length}`).join(', ')}), all delivered once; ${refused.length} answered 503, of which ${refused.filter((e) => counts.has(e)).length} mailed anyway`);

      // The code issued before the restart is still good, once.
      const exchanged = await exchangeCode(base, client_id, early, earlyCode);
      const tokens = (await exchanged.json()) as { access_token?: string; id_token?: string };
      assert.equal(exchanged.status, 200, JSON.stringify(tokens));
      assert.ok(tokens.access_token && tokens.id_token);
      assert.equal(sink.messages.filter((m) => m.to === early).length, 1);
      // Writes of reference data work again (a new client, used at once).
      const again = await passwordlessClient(api);
      assert.equal((await startCode(base, again.client_id, 'after-restart@example.com')).status, 200);
      await sink.waitFor((m) => m.to === 'after-restart@example.com');

      // The log: the blip as 503s, no crash and no 500.
      const out = srv.output();
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
      for (const l of lines.filter((l) => l.level >= 50)) t.diagnostic(`logged at ${l.level}: ${l.msg}`);
      assert.doesNotMatch(out, /uncaught|unhandled/i);
      assert.deepEqual(lines.filter((l) => l.level >= 60 || l.msg === 'database error'), []);
      assert.ok(lines.some((l) => l.msg === 'database unavailable; answered 503'));
      assert.equal(srv.exitCode(), undefined);
      // It still exits only on purpose: SIGTERM drains and exits 0.
      assert.equal(await srv.stop(), 0);
      t.diagnostic(`done at ${Date.now() - t0} ms`);
    });
  });
}
