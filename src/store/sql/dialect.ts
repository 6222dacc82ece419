import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import { Kysely as KyselyDb, PostgresDialect, SqliteDialect } from './kysely.ts';
import type { Pool } from 'pg';
import type { Database } from './schema.ts';
import { type CachedSqlite, cachingDatabase } from './stmt-cache.ts';

export interface OpenedDb {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** SQLite only: the handle Kysely uses too, for the store's synchronous executor (one connection). */
  sqlite?: CachedSqlite;
  /** PostgreSQL only: the pool Kysely uses too, for the store's executor (pg-executor.ts) and its connection counts (metrics). */
  pgPool?: Pool;
  /** Where a generated secret is kept: beside the SQLite file, ./data for PostgreSQL, none in memory. */
  dataDir: string | undefined;
  /** SQLite: the database file (not `:memory:`), for its size and its WAL's (metrics). */
  file?: string;
}

export interface DbOptions {
  /** Where driver errors outside any query go (an idle PostgreSQL connection that was terminated). */
  onBackgroundError?: (err: Error) => void;
  /** PostgreSQL: connections for queries (default 10), besides the one kept LISTENing. */
  queryConnections?: number;
  /** PostgreSQL: `application_name`, so that pg_stat_activity tells Sesame's pools apart. */
  applicationName?: string;
}

/** How long a request waits for a PostgreSQL connection before it is a 503 (db-errors.ts). */
const PG_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens the configured database. Drivers are imported lazily so that the one not configured never
 * loads (STYLE.md §10).
 */
export async function openDatabase(url: string, opts: DbOptions = {}): Promise<OpenedDb> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    const memory = file === ':memory:';
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    const { default: SQLite } = await import('better-sqlite3');
    const database = new SQLite(memory ? ':memory:' : file);
    // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes
    // (only an OS crash can lose the last transactions) and keeps commits off fsync.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    // A WAL checkpoint runs inside the COMMIT that crosses the threshold, and it fsyncs: on the main
    // thread that stalls every request. A connection on a worker thread (the mail thread) does the
    // checkpoints instead, on its own core: after its own commits (default 1,000 pages) and every
    // second, so an idle mail thread still keeps the WAL short. The main thread only steps in if the
    // WAL grows far beyond that (no mail thread: tests with a fake clock, `:memory:`).
    let stopCheckpoints = () => {};
    if (isMainThread) database.pragma('wal_autocheckpoint = 16000');
    else if (!memory) {
      const timer = setInterval(() => database.pragma('wal_checkpoint(PASSIVE)'), 1000);
      timer.unref();
      stopCheckpoints = () => clearInterval(timer);
    }
    const sqlite = cachingDatabase(database, 500, stopCheckpoints);
    const db = new KyselyDb<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: 'sqlite', sqlite, dataDir: memory ? undefined : dirname(file), ...(memory ? {} : { file }) };
  }
  const pg = (await import('pg')).default;
  // int8 columns hold epoch milliseconds, well inside Number's exact range.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  // Without a connect timeout a request waits forever for a database that is down; with it, the
  // wait ends in an error that db-errors.ts classifies as unavailable (503).
  // Ten connections for queries (by default), plus the one the store keeps LISTENing for
  // reference-data changes (pg-listen.ts).
  const pool = new pg.Pool({ connectionString: url, max: (opts.queryConnections ?? 10) + 1, application_name: opts.applicationName ?? 'sesame', connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  // An idle client whose connection the server ends (pg_terminate_backend, a restart, a failover)
  // emits 'error' on the pool; unheard, that event would end the process. The pool has already
  // dropped the client and opens a fresh one on demand: log it and carry on (issue 11).
  const onError = opts.onBackgroundError ?? ((err: Error) => process.emitWarning(`PostgreSQL idle connection error: ${err.message}`));
  pool.on('error', onError);
  // A client checked out of the pool (between two statements of a transaction) has no listener of
  // the pool's: its 'error' would be unheard too. The statement in flight, or the next one, fails
  // with the same error (a 503 through db-errors.ts), and the pool discards the broken client when
  // it is released, so this listener only keeps the event from ending the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new KyselyDb<Database>({ dialect: new PostgresDialect({ pool }) });
  // The generated secret of a PostgreSQL deployment is kept in ./data, as for the default SQLite file.
  mkdirSync('./data', { recursive: true });
  return { db, dialect: 'postgres', pgPool: pool, dataDir: './data' };
}
