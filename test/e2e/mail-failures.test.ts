import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailThread, MailWorker } from '../../src/mail/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/mail-backends.ts';
import { META, captureLog, configFor, enqueue, harness, until } from '../helpers/mail-env.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/**
 * Issue 11: what goes wrong in the mail worker is handled, logged and recovered from, never retried
 * forever and never an unhandled rejection: an unreadable payload, a store that fails to record an
 * outcome, a mail thread that dies.
 */

/** The real store with some methods wrapped (a Proxy: SqlStore keeps its connection in #private fields). */
function wrapStore(store: Store, wraps: Partial<Record<keyof Store, (real: (...a: any[]) => any, ...args: any[]) => any>>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      const real = v.bind(target) as (...a: any[]) => any;
      const wrap = wraps[prop as keyof Store];
      return wrap ? (...args: any[]) => wrap(real, ...args) : real;
    },
  });
}

/** Fails the test on any unhandled rejection while `fn` runs (node's runner would only warn later). */
async function noUnhandledRejections(fn: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const on = (err: unknown) => seen.push(err);
  process.on('unhandledRejection', on);
  try {
    await fn();
    await sleep(50);
  } finally {
    process.off('unhandledRejection', on);
  }
  assert.deepEqual(seen, [], 'unhandled rejections');
}

const fnLogs = async (store: Store) =>
  (await store.searchLogs({ query: { kind: 'term', fields: ['type'], value: 'fn', wildcard: false }, page: 0, perPage: 10, sort: { field: 'date', dir: 'desc' } })).items;

const LEASE_MS = 60_000;

for (const backend of BACKENDS) {
  describe(`mail worker failures [${backend.name}]`, { skip: backend.skip }, () => {
    test('an unreadable payload is given up at once with an fn log, never retried; the others are delivered', async (t) => {
      const h = harness(t, backend);
      const db = await h.db(true);
      const sink = await h.sink();
      let claimedBroken = 0;
      const store = wrapStore(db.store, {
        claimOutbox: async (real, ...args) => {
          const batch = (await real(...args)) as { recipient: string }[];
          claimedBroken += batch.filter((m) => m.recipient === 'broken@example.com').length;
          return batch;
        },
      });
      await db.store.enqueue({ channel: 'email', recipient: 'broken@example.com', payload: '{not json', meta: META });
      const code = await enqueue(db.store, 'fine@example.com');
      const { log, lines } = captureLog();
      await noUnhandledRejections(async () => {
        h.worker(store, configFor(sink.url), log);
        const m = await sink.waitFor((x) => x.to === 'fine@example.com');
        assert.equal(extractCode(m), code);
        await until(async () => (await db.store.countOutbox('failed')) === 1, 'the broken row to be marked failed');
        await sleep(300); // many poll cycles (50 ms): a retried row would be claimed again
      });
      assert.equal(claimedBroken, 1, 'claimed once, then given up');
      assert.equal(sink.messages.length, 1);
      const [fn] = await fnLogs(db.store);
      assert.equal(fn?.details?.to, 'broken@example.com');
      assert.equal(fn?.details?.error, 'unreadable payload');
      assert.ok(lines.some((l) => l.includes('giving up')));
    });

    test('a failing markRetry is logged, never unhandled; the row is claimed again once its lease runs out', async (t) => {
      const h = harness(t, backend);
      const db = await h.db(true);
      let retryCalls = 0;
      const store = wrapStore(db.store, {
        markRetry: (real, ...args) => (++retryCalls === 1 ? Promise.reject(new Error('connection lost while recording')) : real(...args)),
      });
      await enqueue(db.store, 'retry@example.com');
      // The worker's clock starts after the row is due: read before the enqueue, it could sit a
      // millisecond before the row's due time and the worker would never claim it.
      let clock = Date.now();
      const { log, lines } = captureLog();
      // Port 1 on loopback refuses at once: every send fails and is recorded with markRetry.
      const config = configFor('smtp://127.0.0.1:1', { SESAME_MAIL_MAX_ATTEMPTS: '10' });
      await noUnhandledRejections(async () => {
        const worker = new MailWorker({ store, config, log, now: () => clock });
        t.after(() => worker.stop());
        worker.start();
        await until(() => lines.some((l) => l.includes('recording the outcome failed')), 'the failed record to be logged');
        assert.ok(lines.some((l) => l.includes('connection lost while recording')));
        await sleep(200);
        assert.equal(retryCalls, 1, 'the row stays leased: no retry before the lease ends');
        clock += LEASE_MS + 1; // the lease runs out
        worker.wake();
        await until(() => retryCalls >= 2, 'the row to be claimed and recorded again');
      });
      const [row] = await db.query('select attempts, status from outbox');
      assert.ok(Number(row?.attempts) >= 1, JSON.stringify(row));
    });

    test('a failing markFailed is logged, never unhandled; the fn log is written on the next claim', async (t) => {
      const h = harness(t, backend);
      const db = await h.db(true);
      let failedCalls = 0;
      const store = wrapStore(db.store, {
        markFailed: (real, ...args) => (++failedCalls === 1 ? Promise.reject(new Error('disk full')) : real(...args)),
      });
      await db.store.enqueue({ channel: 'email', recipient: 'unreadable@example.com', payload: '', meta: META });
      let clock = Date.now(); // after the enqueue, as above
      const { log, lines } = captureLog();
      await noUnhandledRejections(async () => {
        const worker = new MailWorker({ store, config: configFor(undefined), log, now: () => clock });
        t.after(() => worker.stop());
        worker.start();
        await until(() => lines.some((l) => l.includes('recording the outcome failed') && l.includes('disk full')), 'the failed record to be logged');
        assert.equal((await fnLogs(db.store)).length, 0);
        clock += LEASE_MS + 1;
        worker.wake();
        await until(async () => (await db.store.countOutbox('failed')) === 1, 'the row to be given up on the next claim');
      });
      assert.equal(failedCalls, 2);
      assert.equal((await fnLogs(db.store)).length, 1, 'one fn log');
    });
  });
}

describe('mail thread failures', () => {
  test('a mail thread that dies is logged and restarted with back-off, and then delivers', async (t) => {
    const h = harness(t, BACKENDS[0]!);
    const sink = await h.sink();
    // The thread's database path runs through a regular file: opening it fails, and the thread dies.
    const dir = mkdtempSync(join(tmpdir(), 'sesame-thread-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'blocker'), '');
    const url = `sqlite:${join(dir, 'blocker', 'sesame.db')}`;
    const { log, lines } = captureLog();
    const thread = new MailThread({ config: configFor(sink.url, { SESAME_DATABASE_URL: url }), log });
    thread.start();
    t.after(() => thread.stop());
    const restarts = () => lines.filter((l) => l.includes('mail thread stopped unexpectedly')).map((l) => JSON.parse(l) as { restart_in_ms: number; err?: { message: string } });
    // Generous: each start loads the thread's modules, slow on a busy machine (slower through tsx).
    await until(() => restarts().length >= 2, 'two failed starts', 60_000);
    const [first, second] = restarts();
    assert.equal(first!.restart_in_ms, 1000);
    assert.equal(second!.restart_in_ms, 2000, 'the delay doubles');
    assert.match(first!.err?.message ?? '', /EEXIST|ENOTDIR/);

    // The cause goes away: the next start opens the database and delivers what waits there.
    rmSync(join(dir, 'blocker'));
    const { store } = await openStore(url);
    t.after(() => store.close());
    const code = await enqueue(store, 'after-crash@example.com');
    const m = await sink.waitFor((x) => x.to === 'after-crash@example.com', 60_000);
    assert.equal(extractCode(m), code);
  });
});
