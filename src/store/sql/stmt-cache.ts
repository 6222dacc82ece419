import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** The better-sqlite3 handle plus a shared, bounded cache of its prepared statements. */
export interface CachedSqlite extends SqliteDatabase {
  readonly raw: BetterSqlite3.Database;
  prepare(sql: string): BetterSqlite3.Statement;
}

/**
 * Kysely's SqliteDriver calls `db.prepare(sql)` for every query, and compiling SQL in SQLite costs
 * about as much as running these small statements. Handing Kysely this wrapper makes a repeated SQL
 * text reuse its compiled statement. That is safe because:
 * - the driver only uses `reader`, `all`, `run` and `iterate`, passing the parameters on each call
 *   (nothing stays bound between calls), and nobody here switches a shared statement to raw/pluck/expand;
 * - a statement in the middle of an `iterate()` (Kysely's stream(), unused in Sesame) is `busy`:
 *   then a fresh, uncached one is prepared instead of sharing it.
 * The cache is bounded (oldest insertion evicted) because some SQL is data-shaped: log searches,
 * `IN (…)` lists of varying length.
 */
export function cachingDatabase(raw: BetterSqlite3.Database, max = 500, onClose = () => {}): CachedSqlite {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    raw,
    close() {
      onClose();
      raw.close();
    },
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit;
      const stmt = raw.prepare(sql);
      if (hit) return stmt;
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
      return stmt;
    },
  };
}
