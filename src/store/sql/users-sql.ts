import type { Kysely } from 'kysely';
import type { User } from '../../core/model.ts';
import type { Executor } from './executor.ts';
import { sql } from './kysely.ts';
import { USER_COLUMNS } from './queries.ts';
import { type TurnBatch, lookupByPosition } from './turn-batch.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';

export interface UserRow {
  doc: string;
  logins_count: number;
  last_login: string | null;
  last_ip: string | null;
}

/**
 * The stored document plus the login columns, which win over the document's copies: logins are
 * recorded by one UPDATE of the columns alone (no read-modify-write of the document). A login also
 * counts as the user's last update, as Auth0 reports it.
 */
export function toUser(row: UserRow): User {
  const u = JSON.parse(row.doc) as User;
  u.logins_count = Number(row.logins_count);
  if (row.last_login !== null) {
    u.last_login = row.last_login;
    if (!u.updated_at || row.last_login > u.updated_at) u.updated_at = row.last_login;
  }
  if (row.last_ip !== null) u.last_ip = row.last_ip;
  return u;
}

export function userRow(user: User) {
  return {
    user_id: user.user_id,
    connection: user.connection,
    email: user.email ?? null,
    phone_number: user.phone_number ?? null,
    doc: JSON.stringify(user),
    created_at: Date.parse(user.created_at),
    logins_count: user.logins_count ?? 0,
    last_login: user.last_login ?? null,
    last_ip: user.last_ip ?? null,
  };
}

/**
 * PostgreSQL: users by (connection, email) for many lookups at once, one row per key found, in one
 * prepared statement (turn-batch.ts). `with ordinality` numbers the keys, so each row goes back to
 * the caller that asked for it; (connection, email) is unique, so a key matches one row at most.
 */
export function usersByEmailBatch(db: Kysely<Database>, x: Executor): TurnBatch<{ connection: string; email: string }, User> {
  const query = template<'connections' | 'emails'>(
    sql`select k.i, ${sql.join(USER_COLUMNS.map((c) => sql.ref(`u.${c}`)))} from unnest(${p('connections')}::text[], ${p('emails')}::text[]) with ordinality as k(connection, email, i) join users u on u.connection = k.connection and u.email = k.email`.compile(db),
  );
  return lookupByPosition(x, (keys) => query({ connections: keys.map((k) => k.connection), emails: keys.map((k) => k.email) }), toUser);
}
