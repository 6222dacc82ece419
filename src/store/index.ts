import { type DbOptions, openDatabase } from './sql/dialect.ts';
import { SqlStore } from './sql/sql-store.ts';
import type { Store } from './types.ts';

export interface OpenedStore {
  store: Store;
  dataDir: string | undefined;
  /** What the metrics read of the database: PostgreSQL's pool, or the SQLite file. */
  pool?: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number };
  file?: string;
}

/** Opens and migrates the store named by SESAME_DATABASE_URL. */
export async function openStore(url: string, opts: DbOptions = {}): Promise<OpenedStore> {
  const { db, dialect, dataDir, sqlite, pgPool, file } = await openDatabase(url, opts);
  const store = new SqlStore(db, dialect, { sqlite, pgPool });
  await store.migrate();
  return { store, dataDir, ...(pgPool ? { pool: pgPool } : {}), ...(file ? { file } : {}) };
}
