import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Sliding-window limits (issue 5 §4, SMS toll-fraud guards and the
 * tenant's daily SMS budget): one row per counted event per key. A reservation inserts one row
 * under each of its keys, so a send is counted by every guard at once, and `ref` removes them
 * together when the send fails at the provider.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('window_events')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', big, (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('window_events_key_at').on('window_events').columns(['key', 'at']).execute();
  await db.schema.createIndex('window_events_ref').on('window_events').column('ref').execute();
  await db.schema.createIndex('window_events_at').on('window_events').column('at').execute();
}
