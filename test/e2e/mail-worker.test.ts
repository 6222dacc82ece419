import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMailDelivery, MailThread, MailWorker } from '../../src/mail/index.ts';
import type { Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/mail-backends.ts';
import { captureLog, configFor, enqueue, harness, silent, until } from '../helpers/mail-env.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** The mail worker's own mechanics (waking, store failures, stopping, dev mode, TLS) and its thread. */

type Claim = Store['claimOutbox'];

/** The real store with `claimOutbox` wrapped, so a test can count or break claims. */
function withClaim(store: Store, wrap: (real: Claim, ...args: Parameters<Claim>) => ReturnType<Claim>): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimOutbox') return (...args: Parameters<Claim>) => wrap(target.claimOutbox.bind(target), ...args);
      const v = Reflect.get(target, prop) as unknown;
      // Bound: SqlStore keeps its connection in a #private field, which a Proxy receiver can't read.
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const sqlite = BACKENDS[0]!;

describe('mail worker mechanics', () => {
  test('many wakes in one tick coalesce into one claim', async (t) => {
    const h = harness(t, sqlite);
    const { store } = await h.db();
    let claims = 0;
    const counting = withClaim(store, (real, ...args) => (claims++, real(...args)));
    // A one-minute poll: any claim in this test comes from start() or from wake().
    const worker = h.worker(counting, configFor(undefined, { SESAME_MAIL_POLL_MS: '60000' }));
    await until(() => claims === 1, 'the first claim at start');
    await sleep(50);
    for (let i = 0; i < 1000; i++) worker.wake();
    await sleep(100);
    assert.equal(claims, 2);
  });

  test('a failing claim is logged and retried, not fatal', async (t) => {
    const h = harness(t, sqlite);
    const { store } = await h.db();
    const sink = await h.sink();
    let failures = 1;
    const flaky = withClaim(store, (real, ...args) => (failures-- > 0 ? Promise.reject(new Error('database is locked')) : real(...args)));
    const { log, lines } = captureLog();
    await enqueue(store, 'gina@example.com');
    h.worker(flaky, configFor(sink.url), log);
    await sink.waitFor((x) => x.to === 'gina@example.com');
    assert.ok(lines.some((l) => l.includes('database is locked')), 'the failure was logged');
  });

  test('stop() mid-batch hands unsent rows back: the next worker sends them at once, none twice', async (t) => {
    const h = harness(t, sqlite);
    const { store } = await h.db();
    const sink = await h.sink();
    const n = 600;
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => enqueue(store, `stop${i + j}@example.com`)));
    const first = h.worker(store, configFor(sink.url));
    await until(() => sink.messages.length >= 50, 'the first sends');
    await first.stop();
    assert.ok(sink.messages.length < n, 'stopped before the end');
    // Released rows are due now; rows still leased would wait out the one-minute lease instead.
    h.worker(store, configFor(sink.url));
    await until(() => sink.messages.length >= n, 'the rest, well before a lease could expire', 10_000);
    await sleep(200);
    assert.equal(new Set(sink.messages.map((m) => m.to)).size, n);
    assert.equal(sink.messages.length, n);
  });

  test('development mode prints the message, with its code, after a one-time banner', async (t) => {
    const h = harness(t, sqlite);
    const { store } = await h.db();
    const { log, lines } = captureLog();
    const worker = h.worker(store, configFor(undefined), log);
    const code = await enqueue(store, 'dev@example.com');
    worker.wake();
    await until(async () => (await store.countOutbox('sent')) === 1, 'the row to be marked sent');
    await enqueue(store, 'dev2@example.com');
    worker.wake();
    await until(async () => (await store.countOutbox('sent')) === 2, 'the second row to be marked sent');
    const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    assert.equal(entries.filter((e) => e.msg.includes('No SMTP provider: development mode')).length, 1);
    const printed = entries.filter((e) => e.msg.includes('development mode, not sent'));
    assert.equal(printed.length, 2);
    assert.equal(printed[0]!.level, 40, 'printed at warn');
    assert.ok(JSON.stringify(printed[0]).includes(code));
  });

  for (const tls of ['implicit', 'starttls'] as const) {
    test(`SMTP over TLS (${tls}) to a relay with a self-signed certificate on loopback`, async (t) => {
      const h = harness(t, sqlite);
      const { store } = await h.db();
      const sink = await h.sink({ tls });
      const worker = h.worker(store, configFor(sink.url));
      const code = await enqueue(store, `tls-${tls}@example.com`);
      worker.wake();
      const m = await sink.waitFor((x) => x.to === `tls-${tls}@example.com`);
      assert.equal(m.secure, true, 'the message travelled encrypted');
      assert.equal(extractCode(m), code);
    });
  }
});

describe('mail thread', () => {
  test('delivers from a thread of its own and relays its log lines to the application logger', async (t) => {
    const h = harness(t, sqlite);
    const db = await h.db(true);
    const sink = await h.sink();
    const { log, lines } = captureLog();
    const thread = new MailThread({ config: configFor(sink.url, { SESAME_DATABASE_URL: db.url }), log });
    thread.start();
    t.after(() => thread.stop());
    const code = await enqueue(db.store, 'thread@example.com');
    thread.wake();
    // Generous: the thread first loads its modules (through tsx, run from sources) and opens its own connection.
    const m = await sink.waitFor((x) => x.to === 'thread@example.com', 15_000);
    assert.equal(extractCode(m), code);
    await until(async () => (await db.store.countOutbox('sent')) === 1, 'the thread to mark the row sent');
    assert.ok(lines.some((l) => l.includes('mail transport: SMTP')), 'the thread logs through the application logger');

    await thread.stop();
    await enqueue(db.store, 'after-stop@example.com');
    thread.wake();
    await sleep(300);
    assert.equal(await db.store.countOutbox('pending'), 1, 'nothing is sent once stopped');
  });

  test('a thread stopped while it still loads is ended at once, claims nothing, and the next one delivers', async (t) => {
    const h = harness(t, sqlite);
    const db = await h.db(true);
    const sink = await h.sink();
    await enqueue(db.store, 'queued@example.com');
    const config = configFor(sink.url, { SESAME_DATABASE_URL: db.url });
    const early = new MailThread({ config, log: silent() });
    early.start();
    const t0 = performance.now();
    await early.stop();
    // Loading the thread's modules from the sources takes a second or more; the stop did not wait for it.
    assert.ok(performance.now() - t0 < 500, `stopped in ${Math.round(performance.now() - t0)} ms`);
    await early.ready();
    await sleep(300);
    assert.equal(await db.store.countOutbox('pending'), 1, 'the row is still pending, unclaimed');
    assert.equal(sink.messages.length, 0);

    const next = new MailThread({ config, log: silent() });
    next.start();
    t.after(() => next.stop());
    await sink.waitFor((x) => x.to === 'queued@example.com', 15_000);
  });

  test('createMailDelivery keeps delivery in-process when the database or the clock cannot be shared', async () => {
    const log = silent();
    const { store } = await sqlite.open(false);
    try {
      const memory = configFor(undefined, { SESAME_DATABASE_URL: 'sqlite::memory:' });
      const file = configFor(undefined, { SESAME_DATABASE_URL: 'sqlite:/tmp/sesame-unused.db' });
      assert.ok(createMailDelivery({ store, config: memory, log }) instanceof MailWorker);
      assert.ok(createMailDelivery({ store, config: file, log, now: () => 0 }) instanceof MailWorker);
      assert.ok(createMailDelivery({ store, config: file, log, now: Date.now }) instanceof MailThread);
    } finally {
      await store.close();
    }
  });
});
