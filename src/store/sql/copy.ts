import type { Kysely, TableMetadata, Transaction } from 'kysely';
import { sql } from './kysely.ts';
import { type OpenedDb, openDatabase } from './dialect.ts';
import { migrateToLatest } from './migrate.ts';

/** Kysely's own bookkeeping (migrate.ts): each side has its own, written by its migrations. */
const MIGRATION_TABLES = new Set(['sesame_migrations', 'sesame_migrations_lock']);
/** Rows the migrations write themselves: a freshly migrated database holds these and nothing else. */
const SEEDED: Readonly<Record<string, number>> = { ref_version: 1 };
/** Rows read per page and written per INSERT (bounded by SQLite's 32,766 and PostgreSQL's 65,535 parameters). */
const PAGE = 2_000;
const MAX_PARAMS = 30_000;

type Db = Kysely<any>;
type Dialect = OpenedDb['dialect'];

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export type CopyResult =
  | { ok: true; tables: TableCount[] }
  /** The target holds data and `force` was not given: nothing was written. */
  | { ok: false; nonEmpty: { table: string; rows: number }[] };

/**
 * Every table Sesame's migrations create, read from the migrated database itself (Kysely's
 * introspection), so a table added by a future migration is copied without a change here.
 */
export async function sesameTables(db: Db, dialect: Dialect): Promise<TableMetadata[]> {
  const schema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s : undefined;
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView && !MIGRATION_TABLES.has(t.name) && (schema === undefined || t.schema === schema))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const countRows = async (db: Db | Transaction<any>, table: string): Promise<number> =>
  Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!.n);

/**
 * Copies a whole Sesame database to another, SQLite or PostgreSQL either way (issue 13 §4): every
 * table, every row, as stored. Sealed values (signing keys, provider secrets) and keyed hashes
 * (client secrets, codes, sessions) are bytes to this copy: the target works only under the same
 * SESAME_SECRET. Both sides are migrated to this version first. The source is read in one
 * transaction (a consistent snapshot) and the target written in one: a failure leaves it as it was.
 * A target holding anything beyond what its migrations seed is refused unless `force`, which
 * replaces its content: running the copy again with `force` is an exact re-sync.
 */
export async function copyDatabase(fromUrl: string, toUrl: string, opts: { force: boolean }): Promise<CopyResult> {
  const from = await openDatabase(fromUrl);
  try {
    const to = await openDatabase(toUrl);
    try {
      await migrateToLatest(from.db, from.dialect);
      await migrateToLatest(to.db, to.dialect);
      const tables = await sesameTables(from.db, from.dialect);
      const targetNames = new Set((await sesameTables(to.db, to.dialect)).map((t) => t.name));
      const missing = tables.filter((t) => !targetNames.has(t.name)).map((t) => t.name);
      if (missing.length) throw new Error(`the target has no table ${missing.join(', ')} after its migrations`);
      const snapshot = from.dialect === 'postgres' ? from.db.transaction().setIsolationLevel('repeatable read') : from.db.transaction();
      return await snapshot.execute((read) => to.db.transaction().execute((write) => copyTables(read, from.dialect, write, to.dialect, tables, opts.force)));
    } finally {
      await to.db.destroy();
    }
  } finally {
    await from.db.destroy();
  }
}

async function copyTables(read: Transaction<any>, readDialect: Dialect, write: Transaction<any>, writeDialect: Dialect, tables: TableMetadata[], force: boolean): Promise<CopyResult> {
  if (!force) {
    const nonEmpty: { table: string; rows: number }[] = [];
    for (const t of tables) {
      const rows = await countRows(write, t.name);
      if (rows > (SEEDED[t.name] ?? 0)) nonEmpty.push({ table: t.name, rows });
    }
    if (nonEmpty.length) return { ok: false, nonEmpty };
  }
  const counts: TableCount[] = [];
  for (const t of tables) {
    await write.deleteFrom(t.name).execute();
    const perInsert = Math.max(1, Math.min(PAGE, Math.floor(MAX_PARAMS / t.columns.length)));
    for await (const rows of pages(read, readDialect, t.name)) {
      for (let i = 0; i < rows.length; i += perInsert) await write.insertInto(t.name).values(rows.slice(i, i + perInsert)).execute();
    }
    // An explicit id does not move a PostgreSQL sequence (the outbox's bigserial): the next row would collide.
    if (writeDialect === 'postgres') {
      for (const c of t.columns.filter((col) => col.isAutoIncrementing)) {
        await sql`select setval(pg_get_serial_sequence(${t.name}, ${c.name}), coalesce((select max(${sql.ref(c.name)}) from ${sql.table(t.name)}), 0) + 1, false)`.execute(write);
      }
    }
    counts.push({ table: t.name, source: await countRows(read, t.name), target: await countRows(write, t.name) });
  }
  const off = counts.filter((c) => c.source !== c.target);
  // Throwing rolls the target back: a copy that does not add up is not left half-trusted.
  if (off.length) throw new Error(`row counts differ after the copy: ${off.map((c) => `${c.table} ${c.source} → ${c.target}`).join(', ')}`);
  return { ok: true, tables: counts };
}

/**
 * A table's rows in pages, in physical order with a keyset (SQLite's rowid, PostgreSQL's ctid), so
 * a large `logs` table costs one index step per page rather than an ever longer OFFSET scan.
 */
async function* pages(db: Transaction<any>, dialect: Dialect, table: string): AsyncGenerator<Record<string, unknown>[]> {
  let last: string | number = dialect === 'postgres' ? '(0,0)' : 0;
  for (;;) {
    const q = dialect === 'postgres'
      ? sql<Record<string, unknown>>`select ctid::text as "__key", * from ${sql.table(table)} where ctid > ${last}::tid order by ctid limit ${PAGE}`
      : sql<Record<string, unknown>>`select rowid as "__key", * from ${sql.table(table)} where rowid > ${last} order by rowid limit ${PAGE}`;
    const { rows } = await q.execute(db);
    if (!rows.length) return;
    last = rows.at(-1)!.__key as string | number;
    yield rows.map(({ __key: _key, ...row }) => row);
    if (rows.length < PAGE) return;
  }
}
