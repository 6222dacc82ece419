import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { main } from '../../src/cli.ts';
import { makeLog } from '../../src/core/logs.ts';
import type { LogEvent } from '../../src/core/model.ts';
import { startRetention } from '../../src/logs/retention.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { SESAME_CLI } from '../helpers/paths.ts';

const DAY = 86_400_000;
const ENTRY = SESAME_CLI;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sesame-retention-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `n` logs dated `ageMs` before `now`, each a millisecond apart. */
const logsAged = (n: number, now: number, ageMs: number): LogEvent[] =>
  Array.from({ length: n }, (_, i) => makeLog('sapi', null, { description: `aged ${ageMs}` }, now - ageMs - i));

async function allLogIds(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (let from: string | null = null; ; ) {
    const page = await store.logsAfter(from, 1000);
    if (!page.length) return out;
    out.push(...page.map((l) => l.log_id));
    from = page.at(-1)!.log_id;
  }
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`log retention (${backend})`, { skip }, () => {
    // The clock is injected: "now" is a fixed instant, so log ages are exact.
    const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
    let server: TestServer;
    let db: { url: string; drop(): Promise<void> };
    let oldIds: Set<string>;
    let keptIds: string[];

    before(async () => {
      // Logs written before the server starts: the retention job prunes at start.
      db = backend === 'sqlite' ? { url: `sqlite:${join(tmp(), 'sesame.db')}`, drop: async () => {} } : await freshDatabase('postgres');
      const { store } = await openStore(db.url);
      const old = logsAged(2_500, NOW, 8 * DAY); // more than two delete batches
      const kept = [...logsAged(30, NOW, 6 * DAY), ...logsAged(20, NOW, 60_000)];
      for (let i = 0; i < old.length; i += 500) await store.appendLogs(old.slice(i, i + 500));
      await store.appendLogs(kept);
      await store.close();
      oldIds = new Set(old.map((l) => l.log_id));
      keptIds = kept.map((l) => l.log_id).sort();
      server = await bootServer({ backend, now: () => NOW, env: { SESAME_DATABASE_URL: db.url, SESAME_LOG_RETENTION_DAYS: '7' } });
    });
    after(async () => {
      await server?.close();
      await db?.drop();
    });

    it('prunes logs older than SESAME_LOG_RETENTION_DAYS at start, in batches, and keeps the rest', async () => {
      const store = server.services.store;
      await until(async () => (await allLogIds(store)).every((id) => !oldIds.has(id)), 20_000, 'old logs to be pruned');
      const left = await allLogIds(store);
      // Every younger log survives (the server may have written its own since: they are recent too).
      for (const id of keptIds) assert.ok(left.includes(id), `log ${id} younger than 7 days was kept`);
      assert.ok(left.every((id) => !oldIds.has(id)), 'no log older than 7 days is left');
    });

    it('0 days keeps logs forever; the pruned logs are gone from the Management API too', async () => {
      const store = server.services.store;
      const ancient = logsAged(3, NOW, 400 * DAY);
      await store.appendLogs(ancient);
      const stop = startRetention({ store, retentionDays: 0, now: () => NOW, onError: (e) => assert.fail(String(e)) });
      await new Promise((r) => setTimeout(r, 200));
      await stop();
      for (const l of ancient) assert.ok(await store.getLog(l.log_id), 'retention 0 deletes nothing');

      // The same job with a 30-day retention removes them.
      const errors: unknown[] = [];
      const stop30 = startRetention({ store, retentionDays: 30, now: () => NOW, onError: (e) => errors.push(e) });
      await until(async () => (await store.getLog(ancient[0]!.log_id)) === undefined && (await store.getLog(ancient[2]!.log_id)) === undefined, 10_000, 'ancient logs pruned');
      await stop30();
      assert.deepEqual(errors, []);
      const res = await fetch(`${server.baseUrl}/api/v2/logs/${ancient[1]!.log_id}`, { headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
      assert.equal(res.status, 404);
    });
  });
}

describe('sesame logs prune (CLI, real SQLite file)', () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [...ENTRY, ...args], { encoding: 'utf8', cwd: tmp(), env: { PATH: process.env.PATH ?? '', ...env } });

  it('deletes logs older than --older-than and prints how many', async () => {
    const url = `sqlite:${join(tmp(), 'sesame.db')}`;
    const now = Date.now();
    const { store } = await openStore(url);
    const old = logsAged(1_234, now, 2 * DAY);
    const recent = logsAged(5, now, 60 * 60_000);
    await store.appendLogs(old);
    await store.appendLogs(recent);
    await store.close();

    const r = run(['logs', 'prune', '--older-than', '1d'], { SESAME_DATABASE_URL: url, SESAME_LOG_LEVEL: 'silent' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Deleted 1234 logs older than 1d/);

    const reopened = await openStore(url);
    try {
      assert.deepEqual(await allLogIds(reopened.store), recent.map((l) => l.log_id).sort());
    } finally {
      await reopened.store.close();
    }

    const again = run(['logs', 'prune', '--older-than=30m'], { SESAME_DATABASE_URL: url });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Deleted 5 logs older than 30m/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    // In process through the CLI's own entry (spawning each case would take seconds apiece).
    const call = async (args: string[], env: Record<string, string>) => {
      let stdout = '';
      let stderr = '';
      const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
      const status = await main(args, { env, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: process.stdin });
      return { status, stdout, stderr };
    };
    const env = { SESAME_DATABASE_URL: `sqlite:${join(tmp(), 'x.db')}` };
    for (const args of [['logs'], ['logs', 'prune'], ['logs', 'prune', '--older-than', '1w'], ['logs', 'prune', '--older-than', '-1d'], ['logs', 'purge', '--older-than', '1d'], ['logs', 'prune', '--older-than', '1d', '--force']]) {
      const r = await call(args, env);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /Usage: sesame logs prune/);
      assert.equal(r.stdout, '');
    }
    const bad = await call(['logs', 'prune', '--older-than', '1d'], { SESAME_DATABASE_URL: 'mysql://nope' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /SESAME_DATABASE_URL/);
  });
});
