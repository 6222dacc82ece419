import type { CompiledQuery } from 'kysely';
import type { ArrayInsert } from './array-insert.ts';
import type { CachedSqlite } from './stmt-cache.ts';

/** What one statement gave back: its rows (SELECT, RETURNING) and how many rows it changed. */
export interface Result {
  rows: Record<string, any>[];
  changes: number;
}

/**
 * A write, as a generator: it yields its statements one at a time and receives each result, so an
 * op can branch on what it saw (insert-or-select) and still run synchronously on SQLite. It returns
 * the caller's value. Ops may be run twice (batch retry): they must not touch outside state.
 */
export type Op<T> = () => Generator<CompiledQuery, T, Result>;

/**
 * A multi-row INSERT for any number of rows (queries.ts `rowsInsert`); `key` names the conflict
 * target of an upsert (rows with one key may not meet twice in one statement).
 */
export interface RowsInsert {
  (rows: Record<string, unknown>[]): CompiledQuery;
  key?: (row: Record<string, unknown>) => string;
  /** PostgreSQL: the same INSERT over one array per field (array-insert.ts). */
  arrays?: ArrayInsert;
}

/** Rows for one table. */
export interface Rows {
  insert: RowsInsert;
  rows: Record<string, unknown>[];
}

/**
 * Runs compiled queries (SQL built by Kysely, one codebase) on either backend.
 * - `one`: a read, at once (SQLite: synchronously, WAL readers never wait for the writer).
 * - `write`: an op whose statements commit together when `atomic`. On SQLite ops are group
 *   committed: every op issued within one event-loop turn shares one BEGIN IMMEDIATE … COMMIT, and
 *   each caller's promise settles only after that COMMIT. Single-statement atomic writes
 *   (takeAttempt's UPDATE … RETURNING, consumeCode's DELETE) stay single statements in the batch.
 */
export interface Executor {
  one(q: CompiledQuery): Promise<Result>;
  write<T>(op: Op<T>, atomic?: boolean): Promise<T>;
  /**
   * Blind inserts (no reads, no branching) that commit together. Both backends group-commit them;
   * PostgreSQL also merges every waiting caller's rows into one multi-row INSERT per table
   * (pg-executor.ts), SQLite runs them inside its per-turn batch.
   */
  append(parts: Rows[]): Promise<void>;
  /** Runs (SQLite) or waits for (PostgreSQL) what is queued now: before close. */
  flush(): void | Promise<void>;
}

interface Pending {
  op: Op<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  since: number;
}

const NO_ROWS: Record<string, any>[] = [];
const BUSY = Symbol('SQLITE_BUSY');
/** As the connection's busy_timeout (dialect.ts): how long a write may wait for the lock in total. */
const LOCK_WAIT_MS = 5000;

/**
 * SQLite: synchronous execution on the raw better-sqlite3 handle with the shared statement cache,
 * and group commit. One COMMIT per event-loop turn instead of one per request is most of the write
 * cost saved. The transaction starts with BEGIN IMMEDIATE, taking the write lock up front instead
 * of failing on a lock upgrade when another connection (the mail thread) committed in between; it
 * is tried without SQLite's busy handler, whose sleeps would stop the whole event loop, and retried
 * from the loop for up to LOCK_WAIT_MS, then once more with the handler. Kysely never runs a
 * transaction on SQLite in this store, so a synchronous batch cannot interleave with one; the
 * `inTransaction` check is a guard, not a path.
 */
export class SqliteExecutor implements Executor {
  readonly #db: CachedSqlite;
  #queue: Pending[] = [];
  #scheduled = false;
  #busyRetries = 0;

  constructor(db: CachedSqlite) {
    this.#db = db;
  }

  one(q: CompiledQuery): Promise<Result> {
    try {
      return Promise.resolve(this.#run(q));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  write<T>(op: Op<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: unknown) => void, reject, since: Date.now() });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate, not a microtask: the requests read in this poll phase all join the batch.
        setImmediate(() => this.#flush(false));
      }
    });
  }

  append(parts: Rows[]): Promise<void> {
    return this.write(function* () {
      for (const part of parts) yield part.insert(part.rows);
    });
  }

  flush(): void {
    this.#flush(true);
  }

  #flush(blocking: boolean): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    if (this.#db.raw.inTransaction) return this.#retryLater();
    const batch = this.#queue;
    this.#queue = [];
    let results: unknown[];
    try {
      const began = this.#noWait(() => this.#db.prepare('BEGIN IMMEDIATE').run());
      if (began === BUSY && !blocking && Date.now() - batch[0]!.since < LOCK_WAIT_MS) {
        // Another connection (the mail thread) is writing: serve other work and try again shortly
        // instead of sleeping in SQLite's busy handler with the whole event loop stopped.
        this.#queue = batch.concat(this.#queue);
        return this.#retryLater();
      }
      results = this.#transaction(() => batch.map((p) => this.#drive(p.op)), began !== BUSY);
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One bad op must not fail its neighbours: replay them one transaction each.
      for (const p of batch) {
        try {
          p.resolve(this.#transaction(() => this.#drive(p.op), false));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    this.#busyRetries = 0;
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
  }

  /** Runs `fn` in a write transaction, begun here (waiting up to busy_timeout) unless `begun`. */
  #transaction<T>(fn: () => T, begun: boolean): T {
    if (!begun) this.#db.prepare('BEGIN IMMEDIATE').run();
    try {
      const out = fn();
      this.#db.prepare('COMMIT').run();
      return out;
    } catch (err) {
      if (this.#db.raw.inTransaction) this.#db.prepare('ROLLBACK').run();
      throw err;
    }
  }

  /** Runs `fn` with SQLite's busy handler off: BUSY at once instead of a blocking sleep-and-retry. */
  #noWait<T>(fn: () => T): T | typeof BUSY {
    this.#db.prepare('PRAGMA busy_timeout = 0').get();
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return BUSY;
      throw err;
    } finally {
      this.#db.prepare(`PRAGMA busy_timeout = ${LOCK_WAIT_MS}`).get();
    }
  }

  /** The first retries come right after pending I/O; then every millisecond, not a hot spin. */
  #retryLater(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const again = () => this.#flush(false);
    if (this.#busyRetries++ < 3) setImmediate(again);
    else setTimeout(again, 1);
  }

  #drive<T>(op: Op<T>): T {
    const gen = op();
    let step = gen.next();
    while (!step.done) step = gen.next(this.#run(step.value));
    return step.value;
  }

  #run(q: CompiledQuery): Result {
    const stmt = this.#db.prepare(q.sql);
    if (stmt.reader) {
      const rows = stmt.all(q.parameters as unknown[]) as Record<string, any>[];
      return { rows, changes: rows.length };
    }
    return { rows: NO_ROWS, changes: stmt.run(q.parameters as unknown[]).changes };
  }
}
