import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Resource servers (APIs, issue 4 §4): what an `audience` may name
 * at the token endpoint and how long its access tokens live. `identifier` is the audience and is
 * unique; the document holds the rest (name, scopes, token_lifetime, signing_alg, flags). The
 * Management API is a system resource server that is never stored (it follows the issuer).
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('resource_servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('identifier', 'text', (c) => c.notNull().unique())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
}
