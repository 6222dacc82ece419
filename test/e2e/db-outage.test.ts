import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT } from '../helpers/boot.ts';
import { management, passwordlessClient, startCode } from '../helpers/instances.ts';
import { DRIVER_TEXT, getToken, health, outageRig, tokenBody, until } from '../helpers/outage.ts';

/**
 * Issue 11: PostgreSQL terminates Sesame's connections (pg_terminate_backend, as a failover or a
 * restart does) while requests are in flight, and refuses new ones for a moment. The server, in a
 * process of its own so that a crash shows as an exit, answers every request 200 or a clean 503,
 * /health is 503 during the blip and 200 again within seconds, and the process never exits.
 */
const pgMatrix = (await backendMatrix()).filter((b) => b.backend === 'postgres');
for (const { skip } of pgMatrix) {
  describe('a PostgreSQL outage under load [postgres]', { skip }, () => {
    const rig = outageRig({
      SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret, SESAME_LOG_LEVEL: 'warn',
      SESAME_START_LIMIT_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_HOUR: '0',
    });

    it('answers 200 or a clean 503 through the blip, /health follows the database, and the process lives on', async (t) => {
      const { srv, admin, name, sink } = rig;
      const t0 = Date.now();
      const token = await getToken(srv.baseUrl);
      const auth = { authorization: `Bearer ${token}` };
      const { client_id } = await passwordlessClient(await management(srv.baseUrl, `${srv.baseUrl.replace('127.0.0.1', 'localhost')}/`));
      /** Starts answered 200 (issue 13 §3: nothing accepted is lost): each must be delivered. */
      const accepted: string[] = [];
      let n = 0;
      const seen = new Map<number, number>();
      const bad: string[] = [];
      let loading = true;
      const record = async (what: string, res: Promise<Response>) => {
        let r: Response;
        const t1 = Date.now();
        try {
          r = await res;
          if (Date.now() - t1 > 1000) t.diagnostic(`${what} took ${Date.now() - t1} ms → ${r.status}`);
        } catch (err) {
          bad.push(`${what}: no response (${(err as Error).message})`);
          return;
        }
        const text = await r.text();
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status !== 200 && r.status !== 503) bad.push(`${what} → ${r.status} ${text.slice(0, 200)}`);
        if (DRIVER_TEXT.test(text)) bad.push(`${what}: driver text leaked: ${text.slice(0, 200)}`);
        if (r.status === 503) {
          // Each surface's envelope (never an assert here: a loop must not reject while others run).
          const body = JSON.parse(text) as Record<string, unknown>;
          const shaped = what.startsWith('/api/v2') ? body.statusCode === 503 && body.error === 'Service Unavailable' : body.error === 'temporarily_unavailable';
          if (!shaped || !r.headers.get('retry-after')) bad.push(`${what}: 503 without its envelope or Retry-After: ${text}`);
        }
      };
      const loop = async () => {
        while (loading) {
          await record('/oauth/token', fetch(`${srv.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tokenBody(srv.baseUrl) }));
          await record('/api/v2/clients', fetch(`${srv.baseUrl}/api/v2/clients?per_page=5`, { headers: auth }));
          await record('/api/v2/logs', fetch(`${srv.baseUrl}/api/v2/logs?per_page=5`, { headers: auth }));
        }
      };
      t.diagnostic(`server up, load starts at ${Date.now() - t0} ms`);
      let recovered = Infinity;
      const starts = async () => {
        while (loading) {
          const email = `outage${n++}@example.com`;
          const res = startCode(srv.baseUrl, client_id, email);
          await record('/passwordless/start', res);
          if ((await res.catch(() => undefined))?.status === 200) accepted.push(email);
        }
      };
      const loops = [loop(), loop(), loop(), starts()];
      try {
      await sleep(500);

      // The blip: new connections refused, every existing one terminated.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await until(async () => (await health(srv.baseUrl)) === 503, '/health to answer 503 during the outage', 5000);
      await sleep(1000);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      const back = Date.now();
      await until(async () => (await health(srv.baseUrl)) === 200, '/health to answer 200 again', 5000);
      recovered = Date.now() - back;

      // Once more, with connections allowed all along: a failover's reconnect.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await sleep(1000);
      } finally {
        loading = false;
        await Promise.all(loops);
      }

      t.diagnostic(`load done at ${Date.now() - t0} ms: ${JSON.stringify([...seen])}`);
      assert.deepEqual(bad, []);
      assert.ok((seen.get(503) ?? 0) > 0, `no request saw the outage: ${JSON.stringify([...seen])}`);
      assert.ok((seen.get(200) ?? 0) > 0);
      assert.ok(recovered < 5000, `recovered in ${recovered} ms`);
      // Every start that was answered 200 is delivered: accepted means committed.
      const delivered = () => new Set(sink.messages.map((m) => m.to));
      await until(async () => accepted.every((e) => delivered().has(e)), `all ${accepted.length} accepted starts delivered`, 20_000);
      assert.ok(accepted.length > 0);
      // Every surface works again, and the process never exited.
      const r = await fetch(`${srv.baseUrl}/api/v2/clients?per_page=5`, { headers: auth });
      assert.equal(r.status, 200);
      assert.equal(srv.exitCode(), undefined, srv.output().slice(-2000));
      assert.doesNotMatch(srv.output(), /uncaught|unhandled/i);
      assert.match(srv.output(), /database unavailable; answered 503/);
      // It still exits only on purpose: SIGTERM drains and exits 0.
      assert.equal(await srv.stop(), 0);
      t.diagnostic(`stopped at ${Date.now() - t0} ms`);
    });
  });
}

/**
 * Issue 11, "logged once": the loops that poll the database through an outage (the log-stream
 * worker every second, the mail worker, /health as often as probes come) write one warning when it
 * starts and one info line when it ends, not a line per poll. Probed every 100 ms for 3 s here.
 */
for (const { skip } of pgMatrix) {
  describe('a PostgreSQL outage in the logs [postgres]', { skip }, () => {
    const rig = outageRig({ SESAME_LOG_LEVEL: 'info', SESAME_LOG_FORMAT: 'json' });

    /** The process's JSON log lines whose msg starts with `prefix`. */
    const lines = (prefix: string) =>
      rig.srv.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; failures?: number })
        .filter((l) => l.msg.startsWith(prefix));

    it('logs the outage once when it starts and once when it ends, per loop, however many polls failed', async () => {
      const { srv, admin, name } = rig;
      assert.equal(await health(srv.baseUrl), 200);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      let probes = 0;
      const end = Date.now() + 3000;
      while (Date.now() < end) {
        if ((await health(srv.baseUrl)) === 503) probes++;
        await sleep(100);
      }
      assert.ok(probes >= 10, `${probes} probes saw the outage`);
      // The stream worker polls every second: it has failed at least twice by now.
      await until(async () => lines('log stream worker: database unreachable').length > 0, 'the stream worker to see the outage', 5000);
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await until(async () => (await health(srv.baseUrl)) === 200, '/health to answer 200 again', 5000);
      await until(async () => lines('log stream worker: database reachable again').length > 0, 'the stream worker to recover', 5000);

      for (const loop of ['health check', 'log stream worker']) {
        const down = lines(`${loop}: database unreachable`);
        const up = lines(`${loop}: database reachable again`);
        assert.equal(down.length, 1, `${loop}: one warning for the outage, got ${down.length}`);
        assert.equal(down[0]!.level, 40);
        assert.equal(up.length, 1, `${loop}: one line when it is back`);
        assert.equal(up[0]!.level, 30);
        assert.ok(up[0]!.failures! >= 2, `${loop}: the failed polls are counted (${up[0]!.failures})`);
      }
      assert.equal(lines('health check: database reachable again')[0]!.failures, probes);
      // The mail worker, if it polled during the outage, follows the same rule.
      assert.ok(lines('mail worker: database unreachable').length <= 1);
      assert.equal(srv.exitCode(), undefined);
    });
  });
}
