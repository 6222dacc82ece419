import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';

export interface OpenedDb {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** Where a generated secret is kept: beside the SQLite file, ./data for PostgreSQL, none in memory. */
  dataDir: string | undefined;
}

/**
 * Opens the configured database. Drivers are imported lazily so that the one not configured never
 * loads (STYLE.md §10).
 */
export async function openDatabase(url: string): Promise<OpenedDb> {
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
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { db, dialect: 'sqlite', dataDir: memory ? undefined : dirname(file) };
  }
  const pg = (await import('pg')).default;
  // int8 columns hold epoch milliseconds, well inside Number's exact range.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // The generated secret of a PostgreSQL deployment is kept in ./data, as for the default SQLite file.
  mkdirSync('./data', { recursive: true });
  return { db, dialect: 'postgres', dataDir: './data' };
}
