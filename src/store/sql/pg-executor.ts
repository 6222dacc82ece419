import type { CompiledQuery } from 'kysely';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Executor, Op, Result, Rows } from './executor.ts';
import { isTemplateSql } from './template.ts';

/** Callers whose rows share one batch transaction at most (a burst beyond waits for the next). */
const MAX_CALLERS = 500;
/** Rows per multi-row INSERT: bounds the statement templates (one per row count) and their size. */
const CHUNK = 100;
/** Batches committing at once: one fills while the other commits, as the WAL flush takes a while. */
const MAX_BATCHES = 2;

interface Pending {
  parts: Rows[];
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * PostgreSQL: compiled Kysely queries (one codebase with SQLite) run on pg's pool directly, so that
 * - hot statements (templates, template.ts) are named prepared statements: parsed and planned once
 *   per connection instead of on every call, which was much of PostgreSQL's CPU per request;
 * - `append` group-commits like the SQLite executor: the rows of every caller waiting at the next
 *   event-loop turn go into ONE statement (an INSERT over arrays per table, as data-modifying CTEs:
 *   array-insert.ts) or, for tables without an array form, one transaction of multi-row INSERTs,
 *   and each caller is answered after that commit. Two batches may commit at once. If a batch fails, each caller's rows
 *   are retried in a transaction of their own, so one bad row never fails its neighbours.
 */
export class PgExecutor implements Executor {
  readonly #pool: Pool;
  readonly #names = new Map<string, string>();
  #queue: Pending[] = [];
  #running = 0;
  #scheduled = false;
  #idle: (() => void)[] = [];

  /** One statement for a batch's rows of every table, when each has an array form (array-insert.ts). */
  readonly #combine: (tables: Rows[]) => CompiledQuery | undefined;

  constructor(pool: Pool, combine: (tables: Rows[]) => CompiledQuery | undefined = () => undefined) {
    this.#pool = pool;
    this.#combine = combine;
  }

  async one(q: CompiledQuery): Promise<Result> {
    return toResult(await this.#pool.query(this.#config(q)));
  }

  write<T>(op: Op<T>, atomic = true): Promise<T> {
    if (!atomic) return drive(op, (q) => this.one(q));
    return this.#transaction((client) => drive(op, async (q) => toResult(await client.query(this.#config(q)))));
  }

  append(parts: Rows[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ parts, resolve, reject });
      this.#schedule();
    });
  }

  /** Settles once every queued and running batch has committed (or failed): before closing the pool. */
  flush(): Promise<void> {
    if (!this.#queue.length && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running >= MAX_BATCHES || !this.#queue.length) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: the requests read in this poll phase all join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#runBatch();
    });
  }

  async #runBatch(): Promise<void> {
    if (this.#running >= MAX_BATCHES || !this.#queue.length) return;
    const batch = this.#queue.splice(0, MAX_CALLERS);
    this.#running++;
    try {
      await this.#insertAll(batch);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else await Promise.all(batch.map((p) => this.#insertAll([p]).then(p.resolve, p.reject)));
    } finally {
      this.#running--;
      this.#schedule();
      if (!this.#running && !this.#queue.length) for (const done of this.#idle.splice(0)) done();
    }
  }

  /** One transaction: per table, the rows of every caller in multi-row INSERTs (async: a bad row rejects, never throws). */
  async #insertAll(batch: Pending[]): Promise<void> {
    const byTable = new Map<Rows['insert'], Record<string, unknown>[]>();
    for (const p of batch) {
      for (const part of p.parts) {
        const rows = byTable.get(part.insert);
        if (rows) rows.push(...part.rows);
        else byTable.set(part.insert, [...part.rows]);
      }
    }
    const tables: Rows[] = [];
    for (const [insert, all] of byTable) {
      let rows = all;
      if (insert.key) {
        // An upsert may not touch one row twice in a statement: the later caller's row wins, as
        // it would have in serial order. Sorted by key, every batch locks rows in the same order,
        // so two batches (or two instances) cannot deadlock on them.
        const last = new Map(rows.map((r) => [insert.key!(r), r]));
        rows = [...last.keys()].sort().map((k) => last.get(k)!);
      }
      tables.push({ insert, rows });
    }
    // One statement is atomic on its own: no BEGIN and COMMIT round trips.
    const combined = this.#combine(tables);
    if (combined) {
      await this.#pool.query(this.#config(combined));
      return;
    }
    const statements: CompiledQuery[] = [];
    for (const { insert, rows } of tables) {
      for (let i = 0; i < rows.length; i += CHUNK) statements.push(insert(rows.slice(i, i + CHUNK)));
    }
    return this.#transaction(async (client) => {
      for (const s of statements) await client.query(this.#config(s));
    });
  }

  async #transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A connection that cannot even roll back is dropped from the pool instead of reused.
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      throw err;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  /** Template SQL is a fixed, bounded set: each text gets a statement name (pg prepares it once per connection). */
  #config(q: CompiledQuery): QueryConfig {
    const values = q.parameters as unknown[];
    if (!isTemplateSql(q.sql)) return { text: q.sql, values };
    let name = this.#names.get(q.sql);
    if (!name) {
      name = `sesame_${this.#names.size}`;
      this.#names.set(q.sql, name);
    }
    return { name, text: q.sql, values };
  }
}

function toResult(r: { rows: Record<string, any>[]; rowCount: number | null }): Result {
  return { rows: r.rows, changes: r.rowCount ?? 0 };
}

async function drive<T>(op: Op<T>, exec: (q: CompiledQuery) => Promise<Result>): Promise<T> {
  const gen = op();
  let step = gen.next();
  while (!step.done) step = gen.next(await exec(step.value));
  return step.value;
}
