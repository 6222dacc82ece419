import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Administrators of the dashboard added with `sesame admin add`
 * (issue 12); those of SESAME_ADMIN_EMAILS are configuration, not rows. Keyed by the lower-cased
 * email, so an administrator can be named before their user exists.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema
    .createTable('admins')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('created_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .execute();
}
