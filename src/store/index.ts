import { type DbOptions, openDatabase } from './sql/dialect.ts';
import { SqlStore } from './sql/sql-store.ts';
import type { Store } from './types.ts';

export interface OpenedStore {
  store: Store;
  dataDir: string | undefined;
}

/** Opens and migrates the store named by SESAME_DATABASE_URL. */
export async function openStore(url: string, opts: DbOptions = {}): Promise<OpenedStore> {
  const { db, dialect, dataDir, sqlite, pgPool } = await openDatabase(url, opts);
  const store = new SqlStore(db, dialect, { sqlite, pgPool });
  await store.migrate();
  return { store, dataDir };
}
