import type { Kysely } from 'kysely';
import type { User } from '../../core/model.ts';
import { arrayParam } from './array-insert.ts';
import type { Executor } from './executor.ts';
import { sql } from './kysely.ts';
import { LOG_FIELDS, USER_COLUMNS } from './queries.ts';
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

type UserInsert = ReturnType<typeof userRow>;
const USER_FIELDS = ['user_id', 'connection', 'email', 'phone_number', 'doc', 'created_at', 'logins_count', 'last_login', 'last_ip'] as const satisfies readonly (keyof UserInsert)[];
const USER_TYPES: Partial<Record<keyof UserInsert, string>> = { created_at: 'bigint', logins_count: 'int' };

/**
 * PostgreSQL: the new users of one event-loop turn (first sign-ins) and their first-login logs in
 * ONE statement (turn-batch.ts). Data-modifying CTEs make it atomic: a caller's logs are inserted
 * only if its user was (the insert's RETURNING, joined back to the caller's position). ON CONFLICT
 * DO NOTHING also settles two callers of one turn signing up one email: the earlier one wins, the
 * later one reads the winner's user, as when they race in separate statements.
 * Log columns are all text (migrations), so the logs travel as one text array per column.
 */
export function createUsersBatch(db: Kysely<Database>, x: Executor): TurnBatch<{ user: UserInsert; logs: Database['logs'][] }, true> {
  const users = sql.join(USER_FIELDS.map((f) => sql.ref(f)));
  const logs = sql.join(LOG_FIELDS.map((f) => sql.ref(f)));
  const query = template(
    sql`with k as (
        select * from unnest(${sql.join(USER_FIELDS.map((f) => arrayParam(`u.${f}`, USER_TYPES[f])))}) with ordinality as k(${users}, i)
      ), u as (
        insert into users (${users}) select ${users} from k order by i on conflict do nothing returning user_id
      ), l as (
        insert into logs (${logs})
        select ${sql.join(LOG_FIELDS.map((f) => sql.ref(`lg.${f}`)))}
        from unnest(${arrayParam('owner', 'int')}, ${sql.join(LOG_FIELDS.map((f) => arrayParam(`l.${f}`)))}) as lg(owner, ${logs})
        join k on k.i = lg.owner join u on u.user_id = k.user_id
      )
      select k.i from k join u on u.user_id = k.user_id`.compile(db),
  );
  return lookupByPosition(x, (calls) => {
    const args: Record<string, unknown[]> = { owner: [] };
    for (const f of USER_FIELDS) args[`u.${f}`] = calls.map((c) => c.user[f]);
    for (const f of LOG_FIELDS) args[`l.${f}`] = [];
    calls.forEach((c, n) => {
      for (const row of c.logs) {
        args.owner!.push(n + 1);
        for (const f of LOG_FIELDS) args[`l.${f}`]!.push(row[f]);
      }
    });
    return query(args);
  }, () => true as const);
}

/**
 * PostgreSQL: one turn's logins in one UPDATE (turn-batch.ts), each the same change as `recordLogin`'s
 * single statement. A user logging in twice in one turn is counted in two statements (`distinct`):
 * one UPDATE changes a row once.
 */
export function recordLoginBatch(db: Kysely<Database>, x: Executor): TurnBatch<{ id: string; at: string; ip: string }, true> {
  const query = template<'ids' | 'ats' | 'ips'>(
    sql`update users u set logins_count = u.logins_count + 1, last_login = k.at, last_ip = k.ip
      from unnest(${p('ids')}::text[], ${p('ats')}::text[], ${p('ips')}::text[]) with ordinality as k(id, at, ip, i)
      where u.user_id = k.id returning k.i`.compile(db),
  );
  return lookupByPosition(x, (logins) => query({ ids: logins.map((l) => l.id), ats: logins.map((l) => l.at), ips: logins.map((l) => l.ip) }), () => true as const, { distinct: (l) => l.id });
}
