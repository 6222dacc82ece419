import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { LogEvent } from '../../core/model.ts';
import { logToRow } from './log-sql.ts';
import type { Database } from './schema.ts';
import type { RowsInsert } from './executor.ts';
import { REF_CHANNEL } from './pg-listen.ts';
import { p, template } from './template.ts';
import { unnestFrom, withArrays } from './array-insert.ts';

const CODE_KEY = ['connection_id', 'identifier', 'client_id'] as const;
export const LOG_FIELDS = Object.keys(logToRow({} as LogEvent)) as (keyof Database['logs'])[];
export const USER_COLUMNS = ['doc', 'logins_count', 'last_login', 'last_ip'] as const;

/**
 * The hot queries, built and compiled once per store with Kysely (so once per dialect) and bound
 * with new values per call (template.ts). Everything else is built per call as usual.
 */
export function hotQueries(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
  const byKey = <Q extends { where: (...a: any[]) => Q }>(q: Q): Q =>
    CODE_KEY.reduce((acc, col) => acc.where(col, '=', p(col)), q);
  const t = template;
  const logs = withArrays(rowsInsert(LOG_FIELDS, (values) => db.insertInto('logs').values(values as unknown as Database['logs'][]).compile()), {
    name: 'logs', fields: LOG_FIELDS,
    sql: sql`insert into logs (${sql.join(LOG_FIELDS.map((f) => sql.ref(f)))}) select * ${unnestFrom('logs', LOG_FIELDS)}`,
  });
  return {
    version: t(db.selectFrom('ref_version').select('version').where('id', '=', 1).compile()),
    /** PostgreSQL also NOTIFYs the new version, delivered when the transaction commits (ref-cache.ts). */
    bumpVersion: t(
      dialect === 'postgres'
        ? sql`with b as (update ref_version set version = version + 1 where id = 1 returning version) select pg_notify(${REF_CHANNEL}, b.version::text) from b`.compile(db)
        : db.updateTable('ref_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).compile(),
    ),

    getSetting: t<'key'>(db.selectFrom('settings').select('value').where('key', '=', p('key')).compile()),
    getClient: t<'id'>(db.selectFrom('clients').select(['doc', 'secret_hash']).where('client_id', '=', p('id')).compile()),
    getConnection: t<'id'>(db.selectFrom('connections').select('doc').where('id', '=', p('id')).compile()),
    getConnectionByName: t<'name'>(db.selectFrom('connections').select('doc').where('name', '=', p('name')).compile()),
    isEnabled: t<'connection' | 'client'>(
      db.selectFrom('connection_clients').select('client_id').where('connection_id', '=', p('connection')).where('client_id', '=', p('client')).compile(),
    ),

    /** Issue codes: a new code replaces the previous one of its (connection, identifier, client). */
    codes: withArrays(rowsInsert(
      CODE_FIELDS,
      (values) =>
        db
          .insertInto('otp_codes')
          .values(values.map((v) => ({ ...v, attempts: 0 })) as unknown as Database['otp_codes'][])
          .onConflict((oc) =>
            oc.columns([...CODE_KEY]).doUpdateSet((eb) => ({
              code_hash: eb.ref('excluded.code_hash'), expires_at: eb.ref('excluded.expires_at'), attempts: 0, params: eb.ref('excluded.params'), created_at: eb.ref('excluded.created_at'),
            })),
          )
          .compile(),
      (r) => `${r.connection_id}\0${r.identifier}\0${r.client_id}`,
    ), {
      name: 'codes', fields: CODE_FIELDS,
      sql: sql`insert into otp_codes (${sql.join(CODE_FIELDS.map((f) => sql.ref(f)))}, attempts) select *, 0 ${unnestFrom('codes', CODE_FIELDS, { expires_at: 'bigint', created_at: 'bigint' })}
        on conflict (${sql.join(CODE_KEY.map((f) => sql.ref(f)))}) do update set code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0, params = excluded.params, created_at = excluded.created_at`,
    }),
    takeAttempt: t(byKey(db.updateTable('otp_codes').set((eb) => ({ attempts: eb('attempts', '+', 1) }))).where('attempts', '<', p<number>('max')).returningAll().compile()),
    codeExists: t(byKey(db.selectFrom('otp_codes').select('attempts')).compile()),
    consumeCode: t(byKey(db.deleteFrom('otp_codes')).where('code_hash', '=', p('code_hash')).compile()),

    hitRateLimit: t<'key' | 'start' | 'expires'>(
      db
        .insertInto('rate_limits')
        .values({ key: p('key'), window_start: p<number>('start'), count: 1, expires_at: p<number>('expires') })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            count: sql<number>`case when ${eb.ref('rate_limits.window_start')} = ${p<number>('start')} then ${eb.ref('rate_limits.count')} + 1 else 1 end`,
            window_start: p<number>('start'),
            expires_at: p<number>('expires'),
          })),
        )
        .returning('count')
        .compile(),
    ),

    /** Queue messages: rows of { channel, recipient, payload, meta, now }. */
    outbox: withArrays(rowsInsert(OUTBOX_FIELDS, (values) =>
      db
        .insertInto('outbox')
        .values(values.map((v) => ({ channel: v.channel as string, recipient: v.recipient as string, payload: v.payload as string, meta: v.meta as string, status: 'pending', attempts: 0, next_attempt_at: v.now as number, leased_until: 0, last_error: null, created_at: v.now as number, sent_at: null })))
        .compile(),
    ), {
      name: 'outbox', fields: OUTBOX_FIELDS,
      sql: sql`insert into outbox (channel, recipient, payload, meta, status, attempts, next_attempt_at, leased_until, last_error, created_at, sent_at)
        select channel, recipient, payload, meta, 'pending', 0, now, 0, null, now, null ${unnestFrom('outbox', OUTBOX_FIELDS, { now: 'bigint' })}`,
    }),
    markSent: t<'id' | 'now'>(db.updateTable('outbox').set({ status: 'sent', sent_at: p<number>('now'), payload: '', leased_until: 0 }).where('id', '=', p<number>('id')).compile()),

    logs,
    /** One multi-row INSERT per row count (1–3 rows in practice). */
    insertLogs: (rows: Database['logs'][]): CompiledQuery => logs(rows as unknown as Record<string, unknown>[]),

    insertUser: t<'user_id' | 'connection' | 'email' | 'phone_number' | 'doc' | 'created_at' | 'logins_count' | 'last_login' | 'last_ip'>(
      db
        .insertInto('users')
        .values({ user_id: p('user_id'), connection: p('connection'), email: p('email'), phone_number: p('phone_number'), doc: p('doc'), created_at: p<number>('created_at'), logins_count: p<number>('logins_count'), last_login: p('last_login'), last_ip: p('last_ip') })
        .onConflict((oc) => oc.doNothing())
        .returning('user_id')
        .compile(),
    ),
    userByEmail: t<'connection' | 'email'>(db.selectFrom('users').select(USER_COLUMNS).where('connection', '=', p('connection')).where('email', '=', p('email')).compile()),
    userByPhone: t<'connection' | 'phone'>(db.selectFrom('users').select(USER_COLUMNS).where('connection', '=', p('connection')).where('phone_number', '=', p('phone')).compile()),
    userById: t<'id'>(db.selectFrom('users').select(USER_COLUMNS).where('user_id', '=', p('id')).compile()),
    recordLogin: t<'id' | 'at' | 'ip'>(
      db.updateTable('users').set((eb) => ({ logins_count: eb('logins_count', '+', 1), last_login: p('at'), last_ip: p('ip') })).where('user_id', '=', p('id')).compile(),
    ),
  };
}

export type HotQueries = ReturnType<typeof hotQueries>;


const OUTBOX_FIELDS = ['channel', 'recipient', 'payload', 'meta', 'now'] as const;
const CODE_FIELDS = ['connection_id', 'identifier', 'client_id', 'code_hash', 'expires_at', 'params', 'created_at'] as const;

/**
 * An INSERT of any number of rows, compiled once per row count (a template each) from `build`,
 * which receives one object of named placeholders per row. `key`: see executor.ts RowsInsert.
 */
function rowsInsert(fields: readonly string[], build: (values: Record<string, unknown>[]) => CompiledQuery, key?: RowsInsert['key']): RowsInsert {
  const templates = new Map<number, (args: Record<string, unknown>) => CompiledQuery>();
  const insert: RowsInsert = (rows) => {
    let tpl = templates.get(rows.length);
    if (!tpl) {
      tpl = template(build(rows.map((_, i) => Object.fromEntries(fields.map((f) => [f, p(`${i}.${f}`)])))));
      templates.set(rows.length, tpl);
    }
    const args: Record<string, unknown> = {};
    rows.forEach((r, i) => {
      for (const f of fields) args[`${i}.${f}`] = r[f];
    });
    return tpl(args);
  };
  if (key) insert.key = key;
  return insert;
}
