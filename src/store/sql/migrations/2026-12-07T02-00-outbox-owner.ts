import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Issue 13 §3: a claimed outbox row names the delivery worker that
 * holds it, and every live worker keeps a heartbeat row, so a starting instance takes over the rows
 * of a worker that died (no heartbeat for a few seconds) instead of waiting out the 60 s lease.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.alterTable('outbox').addColumn('lease_owner', 'text').execute();
  await db.schema
    .createTable('delivery_workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('heartbeat_at', big, (c) => c.notNull())
    .execute();
}
