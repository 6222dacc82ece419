import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { cli } from '../helpers/cli.ts';
import { SECRET, exchangeCode, instanceEnv, management, passwordlessClient, startCode, startInstance } from '../helpers/instances.ts';
import type { ServerProcess } from '../helpers/server-process.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `sesame: worker N (pid P) listening` lines the primary prints, by worker number. */
const workers = (out: string) => new Map([...out.matchAll(/sesame: worker (\d+) \(pid (\d+)\) listening/g)].map((m) => [Number(m[1]), Number(m[2])]));

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Answers in a row from whichever worker is left: the primary routes around a dead one. */
async function serves(base: string): Promise<void> {
  let ok = 0;
  await until('5 answers in a row', 30_000, async () => {
    const status = (await fetch(`${base}/health`).catch(() => ({ status: 0 }))).status;
    ok = status === 200 ? ok + 1 : 0;
    return ok >= 5;
  });
}

/** @see issue 13 §2: `sesame start --workers N` (node:cluster) on PostgreSQL; refused on SQLite. */
for (const { backend, skip } of await backendMatrix()) {
  if (backend === 'sqlite') {
    describe('sesame start --workers [sqlite]', () => {
      it('refuses with one clear line and exit 1', async () => {
        const run = await cli(['start', '--workers', '2'], { ...instanceEnv('sqlite::memory:'), SESAME_PORT: '0', SESAME_SECRET: SECRET });
        assert.equal(run.code, 1, run.stderr);
        assert.equal(run.stdout, '');
        assert.equal(run.stderr.trim(), 'Cannot start with --workers: several processes need PostgreSQL (SESAME_DATABASE_URL=postgres://…); SQLite serves from one process, so run sesame start without --workers.');
      });
      it('rejects a count that is not one', async () => {
        const run = await cli(['start', '--workers', 'many'], { ...instanceEnv('sqlite::memory:'), SESAME_PORT: '0' });
        assert.equal(run.code, 2);
        assert.match(run.stderr, /^--workers takes a whole number from 1 to 64 \(got "many"\)/);
      });
    });
    continue;
  }
  describe('sesame start --workers 2 [postgres]', { skip }, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let sink: SmtpSink;
    let srv: ServerProcess;
    before(async () => {
      db = await freshDatabase('postgres');
      sink = await startSmtpSink();
      srv = await startInstance(db.url, { SESAME_SMTP_URL: sink.url }, ['--workers', '2']);
    });
    after(async () => {
      if (srv?.exitCode() === undefined) await srv.stop();
      await sink?.close();
      await db?.drop();
    });

    it('serves from two processes, each of which answers, and SIGTERM stops them all', async () => {
      await until('both workers listening', 120_000, () => workers(srv.output()).size === 2);
      const [w1, w2] = [...workers(srv.output()).values()];
      assert.ok(w1 !== w2 && w1 !== srv.child.pid && w2 !== srv.child.pid);

      // Sign in through the group: the start and the exchange may land on either worker.
      const api = await management(srv.baseUrl);
      const { client_id } = await passwordlessClient(api);
      assert.equal((await startCode(srv.baseUrl, client_id, 'workers@example.com')).status, 200);
      const code = extractCode(await sink.waitFor((m) => m.to === 'workers@example.com', 15_000));
      assert.equal((await exchangeCode(srv.baseUrl, client_id, 'workers@example.com', code)).status, 200);

      // Each worker answers alone: kill one, the other serves; it is replaced; kill the other.
      process.kill(w1!, 'SIGKILL');
      await serves(srv.baseUrl);
      await until('a replacement worker', 120_000, () => workers(srv.output()).size === 3);
      const w3 = workers(srv.output()).get(3)!;
      process.kill(w2!, 'SIGKILL');
      await serves(srv.baseUrl);
      assert.match(srv.output(), /worker 1 \(pid \d+\) exited \(SIGKILL\); starting another/);

      assert.equal(await srv.stop(), 0, srv.output().slice(-2000));
      assert.ok(!alive(w3), 'SIGTERM stopped the workers with the primary');
      assert.doesNotMatch(srv.output(), /"level":(50|60)/);
    });
  });
}
