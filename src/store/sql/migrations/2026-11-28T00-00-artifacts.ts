import type { Kysely } from 'kysely';

/**
 * Frozen in time (STYLE.md §11). Browser sign-in state (issue 3) in one table, in the manner of
 * node-oidc-provider's adapter: /authorize transactions, login sessions, authorization codes,
 * refresh tokens, cross-origin login tickets and magic-link relay codes. `id` is always a keyed
 * hash of the value the browser or app holds, so a read of the table yields no usable token.
 * `family` groups what is revoked together (a refresh-token family, a session's tokens).
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('artifacts')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('family', 'text')
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('consumed_at', big)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('artifacts_pk', ['kind', 'id'])
    .execute();
  await db.schema.createIndex('artifacts_family').on('artifacts').column('family').execute();
  await db.schema.createIndex('artifacts_expiry').on('artifacts').column('expires_at').execute();
}
