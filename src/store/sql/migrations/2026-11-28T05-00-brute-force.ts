import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Brute-force protection (spec §7, BFP): failed code/link guesses per
 * (identifier, IP, connection), and the block they lead to. One row per pair, counted by a single
 * UPSERT (src/store/sql/brute-force-sql.ts), so concurrent guesses can neither skip the threshold
 * nor block twice. `identifier` is indexed for `/api/v2/user-blocks?identifier=`.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('login_failures')
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failure_at', big, (c) => c.notNull())
    .addColumn('blocked_until', big)
    .addPrimaryKeyConstraint('login_failures_pk', ['identifier', 'ip', 'connection'])
    .execute();
}
