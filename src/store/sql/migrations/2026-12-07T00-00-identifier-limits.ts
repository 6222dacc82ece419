import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Limits per identifier across every IP (issue 10 §2): one row per
 * (identifier, connection, kind). `failures`: failed verifications from anywhere, and the growing
 * delay they lead to (`delay_ms`, doubled by each failure once in back-off). `starts`: marks that a
 * start cap refused the identifier until `blocked_until` (the count itself lives in window_events),
 * so `/api/v2/user-blocks` can list and lift it.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('identifier_limits')
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('delay_ms', big, (c) => c.notNull())
    .addColumn('last_at', big, (c) => c.notNull())
    .addColumn('blocked_until', big)
    .addPrimaryKeyConstraint('identifier_limits_pk', ['identifier', 'connection', 'kind'])
    .execute();
}
