import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store, WindowLimit } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { sharedDatabase } from '../helpers/store-fixtures.ts';

/**
 * `Store.reserveWindows` (issue 5 §4): sliding windows that SMS toll-fraud guards count on. Exact
 * under concurrency, across two store instances (two processes' worth of connections), and a refused
 * reservation records nothing.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`store sliding windows [${backend}]`, { skip }, () => {
    let db: Awaited<ReturnType<typeof sharedDatabase>>;
    let a: Store;
    let b: Store;
    let n = 0;
    const key = () => `k-${++n}`;
    before(async () => {
      db = await sharedDatabase(backend);
      a = await db.open();
      b = await db.open();
    });
    after(async () => db?.drop());

    it('admits exactly `max` of 40 concurrent reservations sharing a key, across two stores', async () => {
      const now = Date.now();
      const limit: WindowLimit = { key: key(), max: 5, windowMs: 60_000 };
      const other: WindowLimit = { key: key(), max: 1000, windowMs: 60_000 };
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserveWindows([other, limit], now, `r${i}`)));
      assert.equal(results.filter((r) => r.ok).length, 5);
      // The refused 35 recorded nothing under the key that had room either: it counts 5, not 40.
      const probe = await a.reserveWindows([{ ...other, max: 6 }], now, 'probe');
      assert.equal(probe.ok, true);
      const full = await a.reserveWindows([{ ...other, max: 6 }], now, 'probe-2');
      assert.equal(full.ok, false);
    });

    it('reservations made at once are decided in call order, each against its own limits (one call per turn on PostgreSQL)', async () => {
      const now = Date.now();
      const x = key();
      const y = key();
      const one: WindowLimit = { key: x, max: 1, windowMs: 60_000 };
      const wide: WindowLimit = { key: x, max: 10, windowMs: 60_000 };
      const small: WindowLimit = { key: y, max: 5, windowMs: 60_000 };
      const [first, second, third, none, fourth] = await Promise.all([
        a.reserveWindows([one], now, 'first'),
        a.reserveWindows([small, one], now, 'second'),
        a.reserveWindows([small, wide], now, 'third'),
        a.reserveWindows([], now, 'none'),
        a.reserveWindows([{ ...small, max: 1 }], now, 'fourth'),
      ]);
      assert.deepEqual(first, { ok: true });
      // The second finds x full (the first's event), names its own limit, and records nothing under y.
      assert.deepEqual(second, { ok: false, limit: one, count: 1, resetAt: now + 60_000 });
      assert.deepEqual(third, { ok: true });
      assert.deepEqual(none, { ok: true });
      // The fourth counts the third's event under y: one in the window, room for one.
      assert.equal(fourth.ok, false);
      assert.equal((await a.reserveWindows([{ ...small, max: 2 }], now, 'probe')).ok, true, 'y held exactly one event (the third)');
    });

    it('reservations made at once on keys of their own are each decided against the window as it was (PostgreSQL decides such a turn in one statement)', async () => {
      const t0 = 4_000_000;
      const [full, roomy, second, own, filler] = [key(), key(), key(), key(), key()];
      // Before the turn: `full` holds two events (t0 and t0 + 1000), `second` one.
      assert.equal((await a.reserveWindows([{ key: full, max: 9, windowMs: 10_000 }], t0, 'f1')).ok, true);
      assert.equal((await a.reserveWindows([{ key: full, max: 9, windowMs: 10_000 }], t0 + 1_000, 'f2')).ok, true);
      assert.equal((await a.reserveWindows([{ key: second, max: 9, windowMs: 10_000 }], t0, 's1')).ok, true);
      const now = t0 + 2_000;
      const fullOne: WindowLimit = { key: full, max: 1, windowMs: 10_000 };
      const hourly: WindowLimit = { key: own, max: 2, windowMs: 10_000 };
      const daily: WindowLimit = { key: own, max: 5, windowMs: 100_000 };
      const secondFull: WindowLimit = { key: second, max: 1, windowMs: 10_000 };
      const results = await Promise.all([
        a.reserveWindows([fullOne], now, 't1'),
        a.reserveWindows([{ key: roomy, max: 1, windowMs: 10_000 }], now, 't2'),
        a.reserveWindows([{ key: filler, max: 5, windowMs: 10_000 }, secondFull], now, 't3'),
        a.reserveWindows([hourly, daily], now, 't4'),
      ]);
      // Two inside and room for one: room comes back when the newer of the two leaves.
      assert.deepEqual(results[0], { ok: false, limit: fullOne, count: 2, resetAt: t0 + 11_000 });
      assert.deepEqual(results[1], { ok: true });
      // The caller's second limit is the full one: index 1, and nothing recorded under its first key.
      assert.deepEqual(results[2], { ok: false, limit: secondFull, count: 1, resetAt: t0 + 10_000 });
      assert.deepEqual(results[3], { ok: true });
      const probe = (k: string, max: number) => a.reserveWindows([{ key: k, max, windowMs: 10_000 }], now, `p-${k}`);
      assert.equal((await probe(filler, 1)).ok, true, 'the refused caller recorded nothing under its roomy key');
      assert.equal((await probe(roomy, 1)).ok, false, 'the admitted caller recorded its event');
      // Two limits on one key record one event: room for one more under a max of 2.
      assert.equal((await probe(own, 2)).ok, true);
      assert.equal((await probe(own, 2)).ok, false);
      assert.equal((await probe(full, 3)).ok, true, 'the refused caller added nothing to the full key (two inside, room for three)');
    });

    it('slides: room comes back when the oldest event leaves the window, and says when', async () => {
      const t0 = 1_000_000;
      const limit: WindowLimit = { key: key(), max: 2, windowMs: 10_000 };
      assert.equal((await a.reserveWindows([limit], t0, 'x1')).ok, true);
      assert.equal((await a.reserveWindows([limit], t0 + 4_000, 'x2')).ok, true);
      const refused = await a.reserveWindows([limit], t0 + 5_000, 'x3');
      assert.deepEqual(refused, { ok: false, limit, count: 2, resetAt: t0 + 10_000 });
      // Still inside the first event's window: refused (and not counted).
      assert.equal((await a.reserveWindows([limit], t0 + 9_999, 'x4')).ok, false);
      // The first event has left; the second is still in: one slot.
      assert.equal((await a.reserveWindows([limit], t0 + 10_000, 'x5')).ok, true);
      const again = await a.reserveWindows([limit], t0 + 10_001, 'x6');
      assert.equal(again.ok, false);
      assert.equal(!again.ok && again.resetAt, t0 + 14_000);
    });

    it('reports the first limit without room, in the order given, and a lowered limit resets later', async () => {
      const t0 = 2_000_000;
      const first: WindowLimit = { key: key(), max: 3, windowMs: 10_000 };
      const second: WindowLimit = { key: key(), max: 3, windowMs: 10_000 };
      for (let i = 0; i < 3; i++) assert.equal((await a.reserveWindows([first, second], t0 + i, `o${i}`)).ok, true);
      const r = await a.reserveWindows([second, first], t0 + 10, 'o4');
      assert.equal(!r.ok && r.limit.key, second.key);
      // Lowered to 1 with 3 events inside: room returns only when the third-oldest leaves.
      const lowered = await a.reserveWindows([{ ...first, max: 1 }], t0 + 10, 'o5');
      assert.equal(!lowered.ok && lowered.resetAt, t0 + 2 + 10_000);
    });

    it('releases a reservation by its ref, and purges old events', async () => {
      const t0 = 3_000_000;
      const limit: WindowLimit = { key: key(), max: 1, windowMs: 10_000 };
      assert.equal((await a.reserveWindows([limit], t0, 'rel')).ok, true);
      assert.equal((await a.reserveWindows([limit], t0, 'rel-2')).ok, false);
      await b.releaseWindows('rel');
      assert.equal((await a.reserveWindows([limit], t0, 'rel-3')).ok, true);
      assert.ok((await a.purgeWindows(t0 + 1)) >= 1);
      assert.equal((await a.reserveWindows([limit], t0, 'rel-4')).ok, true);
    });
  });
}
