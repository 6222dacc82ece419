import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendMatrix } from '../helpers/backends.ts';
import { exchangeCode, fileDatabase, management, passwordlessClient, query, startCode, startInstance } from '../helpers/instances.ts';
import type { ServerProcess } from '../helpers/server-process.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

const NO_LIMITS = { SESAME_START_LIMIT_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_DAY: '0' };
/** The mail worker's claim size (src/mail/worker.ts): a crash re-sends at most one batch. */
const BATCH = 200;

/** An SMTP server that accepts connections and never greets: every send hangs, its row stays claimed. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

const kill9 = async (srv: ServerProcess) => {
  srv.child.kill('SIGKILL');
  while (srv.exitCode() === undefined && srv.child.signalCode === null) await sleep(10);
};

/**
 * @see issue 13 §3: `kill -9` of an instance, then a restart on the same database. Rows the dead
 * worker had claimed are taken over as soon as its heartbeat is stale (seconds), not after the 60 s
 * lease; every start answered 200 is delivered, duplicates stay within one claimed batch, the codes
 * still work, and the database opens cleanly.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`crash and restart [${backend}]`, { skip }, () => {
    let db: Awaited<ReturnType<typeof fileDatabase>>;
    let sink: SmtpSink;
    const procs: ServerProcess[] = [];
    const start = async (smtp: string) => {
      const p = await startInstance(db.url, { SESAME_SMTP_URL: smtp, ...NO_LIMITS });
      procs.push(p);
      return p;
    };
    before(async () => {
      db = await fileDatabase(backend);
      sink = await startSmtpSink();
    });
    after(async () => {
      for (const p of procs) if (p.exitCode() === undefined && p.child.signalCode === null) await p.stop();
      await sink?.close();
      await db?.drop();
    });

    it('mail claimed by a killed worker goes out within 5 s of the restart', async () => {
      const hole = await blackHole();
      const a = await start(hole.url);
      const { client_id } = await passwordlessClient(await management(a.baseUrl));
      const emails = ['held1@example.com', 'held2@example.com', 'held3@example.com'];
      for (const e of emails) assert.equal((await startCode(a.baseUrl, client_id, e)).status, 200);
      // The worker holds them: claimed, sending into the black hole.
      const claimed = async () => (await query<{ n: number }>(db.url, "select count(*) as n from outbox where recipient like 'held%' and leased_until > 0 and status = 'pending'"))[0]!.n;
      for (let i = 0; Number(await claimed()) < emails.length; i++) {
        assert.ok(i < 200, 'the worker claimed the messages');
        await sleep(50);
      }
      await kill9(a);
      await hole.close();

      const b = await start(sink.url);
      const restarted = Date.now();
      for (const e of emails) await sink.waitFor((m) => m.to === e, 10_000);
      const took = Date.now() - restarted;
      assert.ok(took < 5000, `delivered ${took} ms after the restart`);
      // The code still works on the restarted instance.
      const code = extractCode(sink.messages.find((m) => m.to === emails[0])!);
      assert.equal((await exchangeCode(b.baseUrl, client_id, emails[0]!, code)).status, 200);
      await b.stop();
    });

    it('kill -9 mid-burst: every start answered 200 is delivered after the restart, duplicates within one batch', async () => {
      const a = await start(sink.url);
      const { client_id } = await passwordlessClient(await management(a.baseUrl));
      const answered = new Set<string>();
      let n = 0;
      let go = true;
      const loop = async () => {
        while (go) {
          const email = `burst${n++}@example.com`;
          try {
            if ((await startCode(a.baseUrl, client_id, email)).status === 200) answered.add(email);
          } catch {
            return; // the process is gone: this request may or may not have been written
          }
        }
      };
      const loops = Array.from({ length: 20 }, loop);
      while (answered.size < 150) await sleep(20);
      await kill9(a);
      go = false;
      await Promise.all(loops);

      const b = await start(sink.url);
      const deadline = Date.now() + 30_000;
      const got = () => new Set(sink.messages.map((m) => m.to));
      while ([...answered].some((e) => !got().has(e))) {
        assert.ok(Date.now() < deadline, `undelivered: ${[...answered].filter((e) => !got().has(e)).length} of ${answered.size}`);
        await sleep(100);
      }
      await sleep(1500); // anything sent twice has arrived by now
      const per = new Map<string, number>();
      for (const m of sink.messages.filter((x) => x.to.startsWith('burst'))) per.set(m.to, (per.get(m.to) ?? 0) + 1);
      const duplicates = [...per.values()].reduce((s, c) => s + c - 1, 0);
      assert.ok(duplicates <= BATCH, `${duplicates} duplicates`);
      // Nothing is left pending, and a code started before the crash still signs in.
      const pending = await query<{ n: number }>(db.url, "select count(*) as n from outbox where status = 'pending' and recipient like 'burst%'");
      assert.equal(Number(pending[0]!.n), 0);
      const email = [...answered][answered.size - 1]!;
      const code = extractCode(sink.messages.find((m) => m.to === email)!);
      const res = await exchangeCode(b.baseUrl, client_id, email, code);
      assert.equal(res.status, 200, await res.text());
      await b.stop();
      if (backend === 'sqlite') {
        const [check] = await query<{ integrity_check: string }>(db.url, 'pragma integrity_check');
        assert.equal(check!.integrity_check, 'ok');
      }
      console.log(`# ${backend}: ${answered.size} answered, ${per.size} delivered, ${duplicates} duplicates`);
    });
  });
}
