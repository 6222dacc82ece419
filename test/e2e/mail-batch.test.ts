import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailWorker } from '../../src/mail/index.ts';
import type { Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/mail-backends.ts';
import { captureLog, configFor, enqueue, harness, until } from '../helpers/mail-env.ts';

/** Sent messages are recorded with one markSentMany per batch; failures keep their own records. */

/** The real store with some methods replaced (bound: SqlStore keeps its state in #private fields). */
function withMethods(store: Store, over: Partial<Record<keyof Store, (...args: never[]) => unknown>>): Store {
  return new Proxy(store, {
    get(target, prop) {
      const o = over[prop as keyof Store];
      if (o) return o;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

for (const backend of BACKENDS) {
  describe(`mail worker batches on ${backend.name}`, { skip: backend.skip }, () => {
    test('a batch of deliveries is marked sent in one write, never one per mail', async (t) => {
      const h = harness(t, backend);
      const { store } = await h.db();
      const sink = await h.sink();
      const n = 300;
      for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => enqueue(store, `batch${i + j}@example.com`)));
      const calls: number[][] = [];
      let single = 0;
      const spy = withMethods(store, {
        markSentMany: (ids: number[]) => (calls.push([...ids]), store.markSentMany(ids)),
        markSent: (id: number) => (single++, store.markSent(id)),
      });
      h.worker(spy, configFor(sink.url));
      await until(async () => (await store.countOutbox('sent')) === n, 'every row to be marked sent', 10_000);
      assert.equal(single, 0, 'markSent is not used');
      assert.equal(calls.flat().length, n);
      assert.equal(new Set(calls.flat()).size, n, 'each id marked once');
      assert.ok(calls.length <= 4 && calls.every((c) => c.length <= 200), `one call per claimed batch (${calls.map((c) => c.length)})`);
      assert.equal(sink.messages.length, n);
    });

    test('a failed mark is made again before the next claim: the message is not sent twice, even past its lease', async (t) => {
      const h = harness(t, backend);
      const { store } = await h.db();
      const sink = await h.sink();
      const code = await enqueue(store, 'again@example.com');
      // The database refuses the mark three times (a restart under the batch), then is back.
      let failures = 3;
      const flaky = withMethods(store, {
        markSentMany: (ids: number[]) => (failures-- > 0 ? Promise.reject(new Error('database is locked')) : store.markSentMany(ids)),
      });
      let offset = 0;
      const { log, lines } = captureLog();
      const worker = new MailWorker({ store: flaky, config: { ...configFor(sink.url), mailPollMs: 50 }, log, now: () => Date.now() + offset });
      t.after(() => worker.stop());
      worker.start();
      await until(() => lines.some((l) => l.includes('recording sent messages failed')), 'the failure to be logged');
      await until(async () => (await store.countOutbox('sent')) === 1, 'the row marked sent on a later try');
      assert.ok(lines.some((l) => l.includes('recorded on a later try')));
      offset = 61_000; // past the one-minute lease: nothing is left to claim
      worker.wake();
      await sleep(300);
      assert.equal(sink.messages.filter((m) => m.to === 'again@example.com').length, 1, 'sent once');
      assert.ok(sink.messages.every((m) => m.text.includes(code)));
    });

    test('a mark that still fails at stop leaves the message to be sent again once its lease runs out (at least once)', async (t) => {
      const h = harness(t, backend);
      const { store } = await h.db();
      const sink = await h.sink();
      await enqueue(store, 'later@example.com');
      let down = true;
      const flaky = withMethods(store, {
        markSentMany: (ids: number[]) => (down ? Promise.reject(new Error('database is locked')) : store.markSentMany(ids)),
      });
      const { log, lines } = captureLog();
      const first = new MailWorker({ store: flaky, config: configFor(sink.url), log });
      first.start();
      await until(() => lines.some((l) => l.includes('recording sent messages failed')), 'the failure to be logged');
      await first.stop();
      assert.ok(lines.some((l) => l.includes('they will be sent again once their claims run out')));
      down = false;
      const second = new MailWorker({ store, config: configFor(sink.url), log, now: () => Date.now() + 61_000 });
      t.after(() => second.stop());
      second.start();
      await until(async () => (await store.countOutbox('sent')) === 1, 'the row sent again and marked');
      assert.equal(sink.messages.filter((m) => m.to === 'later@example.com').length, 2);
    });

    test('stop waits for a heartbeat still being written before it retires the worker, so the retired row stays gone', async (t) => {
      const h = harness(t, backend);
      const { store } = await h.db();
      const sink = await h.sink();
      // The interval's heartbeats take 400 ms to reach the database (a busy one): stop() comes
      // while one is in flight. Its write must not land after the row was deleted (seen in a full
      // run as a delivery_workers row left behind by a stopped server).
      const events: string[] = [];
      let beats = 0;
      const slow = withMethods(store, {
        heartbeatWorker: async (id: string, at: number) => {
          if (beats++ > 0) {
            events.push('beat started');
            await sleep(400);
          }
          await store.heartbeatWorker(id, at);
          events.push('beat written');
        },
        retireWorker: (id: string, now: number) => (events.push('retired'), store.retireWorker(id, now)),
      });
      const worker = new MailWorker({ store: slow, config: configFor(sink.url), log: captureLog().log });
      worker.start();
      await until(() => events.includes('beat started'), 'a heartbeat of the interval in flight', 5_000);
      await worker.stop();
      await sleep(600);
      assert.deepEqual(events.slice(-2), ['beat written', 'retired'], events.join(', '));
    });
  });
}
