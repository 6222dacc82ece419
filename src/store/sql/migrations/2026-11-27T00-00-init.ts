import type { Kysely } from 'kysely';

/**
 * Initial schema, frozen in time (STYLE.md §11). Runs on SQLite and PostgreSQL; the only dialect
 * differences are the outbox key and 64-bit integers for epoch milliseconds.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema.createTable('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();

  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('app_type', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('client_grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addUniqueConstraint('client_grants_client_audience', ['client_id', 'audience'])
    .execute();

  await db.schema
    .createTable('connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('connection_clients')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('connection_clients_pk', ['connection_id', 'client_id'])
    .execute();

  await db.schema
    .createTable('otp_codes')
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('otp_codes_pk', ['connection_id', 'identifier', 'client_id'])
    .execute();

  await db.schema
    .createTable('assertion_jtis')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addPrimaryKeyConstraint('assertion_jtis_pk', ['client_id', 'jti'])
    .execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', big, (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('meta', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', big, (c) => c.notNull())
    .addColumn('leased_until', big, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('sent_at', big)
    .execute();
  await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();

  await db.schema
    .createTable('users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('phone_number', 'text')
    .addColumn('doc', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addUniqueConstraint('users_connection_email', ['connection', 'email'])
    .addUniqueConstraint('users_connection_phone', ['connection', 'phone_number'])
    .execute();
  await db.schema.createIndex('users_email').on('users').column('email').execute();

  let logs = db.schema.createTable('logs').addColumn('log_id', 'text', (c) => c.primaryKey());
  for (const col of ['date', 'type', 'description']) logs = logs.addColumn(col, 'text', (c) => c.notNull());
  for (const col of ['client_id', 'client_name', 'connection', 'connection_id', 'ip', 'hostname', 'user_agent', 'user_id', 'user_name', 'audience', 'scope', 'strategy', 'strategy_type']) {
    logs = logs.addColumn(col, 'text');
  }
  await logs.addColumn('doc', 'text', (c) => c.notNull()).execute();
  await db.schema.createIndex('logs_date').on('logs').column('date').execute();
  await db.schema.createIndex('logs_type_date').on('logs').columns(['type', 'date']).execute();
  await db.schema.createIndex('logs_client_date').on('logs').columns(['client_id', 'date']).execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('private_jwk_enc', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .execute();
}
