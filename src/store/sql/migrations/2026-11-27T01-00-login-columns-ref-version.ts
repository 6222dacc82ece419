import type { Kysely } from 'kysely';
import { sql } from '../kysely.ts';

/**
 * Frozen in time (STYLE.md §11).
 * 1. Login counters move out of the user's JSON document into columns, so that recording a login
 *    is one UPDATE (`logins_count = logins_count + 1`) instead of a read-modify-write transaction,
 *    which SQLite refuses with `database is locked` when another connection commits in between.
 *    The columns win over the document's copies on read.
 * 2. `ref_version`: one row whose counter every write to clients, client grants, connections,
 *    connection enablement and settings bumps in its own transaction; caches of that reference data
 *    compare it before use, across processes and instances.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema.alterTable('users').addColumn('logins_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('users').addColumn('last_login', 'text').execute();
  await db.schema.alterTable('users').addColumn('last_ip', 'text').execute();
  if (dialect === 'postgres') {
    await sql`update users set logins_count = coalesce((doc::jsonb->>'logins_count')::int, 0), last_login = doc::jsonb->>'last_login', last_ip = doc::jsonb->>'last_ip'`.execute(db);
  } else {
    await sql`update users set logins_count = coalesce(json_extract(doc, '$.logins_count'), 0), last_login = json_extract(doc, '$.last_login'), last_ip = json_extract(doc, '$.last_ip')`.execute(db);
  }

  await db.schema
    .createTable('ref_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('ref_version').values({ id: 1, version: 0 }).execute();
}
