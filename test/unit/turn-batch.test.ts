import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { TurnBatch } from '../../src/store/sql/turn-batch.ts';

/** Concurrent lookups share one query (src/store/sql/turn-batch.ts, issue 13 §1). */
describe('TurnBatch', () => {
  it('runs the lookups of one turn as one call, and gives each caller its own row or undefined', async () => {
    const calls: string[][] = [];
    const batch = new TurnBatch<string, string>(async (keys) => {
      calls.push(keys);
      return keys.map((k) => (k.startsWith('miss') ? undefined : `row:${k}`));
    });
    const got = await Promise.all(['a', 'miss1', 'b', 'a'].map((k) => batch.get(k)));
    assert.deepEqual(got, ['row:a', undefined, 'row:b', 'row:a']);
    assert.deepEqual(calls, [['a', 'miss1', 'b', 'a']]);
    // A later turn is a new call.
    assert.equal(await batch.get('c'), 'row:c');
    assert.equal(calls.length, 2);
  });

  it('fails every caller of a failed call, and the next turn works again', async () => {
    let fail = true;
    const batch = new TurnBatch<string, string>(async (keys) => {
      if (fail) throw new Error('connection lost');
      return keys;
    });
    const results = await Promise.allSettled([batch.get('a'), batch.get('b')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    fail = false;
    await tick();
    assert.equal(await batch.get('a'), 'a');
  });

  it('splits a burst into calls of at most 500 keys', async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch<number, number>(async (keys) => {
      sizes.push(keys.length);
      return keys;
    });
    const got = await Promise.all(Array.from({ length: 1200 }, (_, i) => batch.get(i)));
    assert.deepEqual(got, Array.from({ length: 1200 }, (_, i) => i));
    assert.deepEqual(sizes, [500, 500, 200]);
  });
});
