import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). `GET /api/v2/users/{id}/logs` (issue 12, the dashboard's user
 * page) reads one user's logs newest first: an index on (user_id, date) keeps it from scanning the
 * whole table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('logs_user_date').on('logs').columns(['user_id', 'date']).execute();
}
