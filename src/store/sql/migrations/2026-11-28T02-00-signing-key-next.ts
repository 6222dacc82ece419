import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Signing keys follow Auth0's lifecycle (issue 4 §4): a `next` key
 * (status text, no schema change) and the dates the Management API reports for each key
 * (`current_since`, `current_until`, `revoked_at`, epoch milliseconds; null when not reached).
 * Existing current keys become current at their creation.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.alterTable('signing_keys').addColumn('current_since', big).execute();
  await db.schema.alterTable('signing_keys').addColumn('current_until', big).execute();
  await db.schema.alterTable('signing_keys').addColumn('revoked_at', big).execute();
  await db.updateTable('signing_keys').set((eb) => ({ current_since: eb.ref('created_at') })).where('status', 'in', ['current', 'previous']).execute();
}
