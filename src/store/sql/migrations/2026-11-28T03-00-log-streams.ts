import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Log streams (Auth0's `/api/v2/log-streams`): the stream's
 * configuration as a JSON document (the signing secret only encrypted with the Keyring), the
 * delivery checkpoint (the last log_id the receiver acknowledged: delivery resumes after it, so a
 * restart loses nothing), and a lease so that only one instance delivers a stream at a time.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('log_streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('checkpoint', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('leased_until', big, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
}
