import type { CompiledQuery } from 'kysely';
import type { Executor } from './executor.ts';

/** Calls in one batch at most (a larger burst waits for the next query). */
const MAX_KEYS = 500;

interface Waiting<K, R> {
  key: K;
  resolve(row: R | undefined): void;
  reject(err: unknown): void;
}

/**
 * Concurrent calls of the same kind run as one statement (PostgreSQL, issue 13 §1): every call made
 * in one turn of the event loop goes into a single statement over arrays, and each caller gets its
 * own result (or none): the user lookups and the rate-limit hits of starts, the attempt slots and
 * consumptions of exchanges. With 50 requests in flight, one round trip serves a whole turn instead
 * of one per request. On PostgreSQL a query's cost to Node is mostly its socket write, since the
 * loopback send runs the receiving side in the sender's system call: `writev` was 29–37% of the main
 * thread's busy time in `bench/run.mjs --db postgres --profile`.
 * `run` gets the keys in order and returns one entry per key, `undefined` for a miss.
 *
 * `distinct`, for an UPDATE … FROM unnest: such a statement changes a row once however many keys
 * join it (PostgreSQL picks one of them), so keys naming the same row go to successive statements,
 * each sent once the previous one has answered, in the order the calls were made.
 */
export class TurnBatch<K, R> {
  readonly #run: (keys: K[]) => Promise<(R | undefined)[]>;
  readonly #distinct: ((key: K) => string) | undefined;
  #waiting: Waiting<K, R>[] = [];
  #scheduled = false;

  constructor(run: (keys: K[]) => Promise<(R | undefined)[]>, opts: { distinct?: (key: K) => string } = {}) {
    this.#run = run;
    this.#distinct = opts.distinct;
  }

  get(key: K): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // setImmediate, not a microtask: the requests read in this poll phase all join the batch.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#waiting.length) {
      const batch = this.#waiting.splice(0, MAX_KEYS);
      if (this.#distinct) void this.#rounds(batch, this.#distinct);
      else void this.#send(batch);
    }
  }

  #send(batch: Waiting<K, R>[]): Promise<void> {
    return this.#run(batch.map((w) => w.key)).then(
      (rows) => batch.forEach((w, i) => w.resolve(rows[i])),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  }

  /** Round n holds each identity's n-th call; usually there is one round. */
  async #rounds(batch: Waiting<K, R>[], identity: (key: K) => string): Promise<void> {
    const rounds: Waiting<K, R>[][] = [];
    const seen = new Map<string, number>();
    for (const w of batch) {
      const id = identity(w.key);
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      (rounds[n] ??= []).push(w);
    }
    for (const round of rounds) await this.#send(round);
  }
}

/**
 * A TurnBatch of statements whose query numbers the keys (`unnest … with ordinality as k(…, i)`) and
 * returns, for each key it found (or changed), its 1-based position `i` with the row: each caller
 * gets its own.
 */
export function lookupByPosition<K, Row, R>(
  x: Executor, query: (keys: K[]) => CompiledQuery, toValue: (row: Row) => R, opts: { distinct?: (key: K) => string } = {},
): TurnBatch<K, R> {
  return new TurnBatch(async (keys) => {
    const { rows } = await x.one(query(keys));
    const found: (R | undefined)[] = new Array(keys.length);
    for (const row of rows as (Row & { i: string | number })[]) found[Number(row.i) - 1] = toValue(row);
    return found;
  }, opts);
}
