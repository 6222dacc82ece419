import { sql } from './kysely.ts';
import type { AdminRecord, DevOutboxRow, LogCount } from '../dashboard-types.ts';
import { SqlIdentifierLimits } from './identifier-limits-sql.ts';

/**
 * The dashboard's store operations (src/store/dashboard-types.ts): administrators, activity counts
 * and the development outbox. Log dates are ISO 8601 UTC strings of one fixed width, so a bucket is a
 * prefix of the date (`YYYY-MM-DDTHH` or `YYYY-MM-DD`): the same GROUP BY on SQLite and PostgreSQL.
 */
export abstract class SqlDashboard extends SqlIdentifierLimits {
  async listAdmins(): Promise<AdminRecord[]> {
    const rows = await this.db.selectFrom('admins').selectAll().orderBy('email').execute();
    return rows.map((r) => ({ email: r.email, created_at: Number(r.created_at) }));
  }
  async addAdmin(email: string, now: number): Promise<boolean> {
    const r = await this.db.insertInto('admins').values({ email, created_at: now })
      .onConflict((oc) => oc.column('email').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
  async removeAdmin(email: string): Promise<boolean> {
    const r = await this.db.deleteFrom('admins').where('email', '=', email).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async isStoredAdmin(email: string): Promise<boolean> {
    return (await this.db.selectFrom('admins').select('email').where('email', '=', email).executeTakeFirst()) !== undefined;
  }

  async countLogs(from: string, to: string, bucket: 'hour' | 'day', types: readonly string[]): Promise<LogCount[]> {
    if (types.length === 0) return [];
    const t = sql<string>`substr(date, 1, ${sql.lit(bucket === 'hour' ? 13 : 10)})`;
    const rows = await this.db.selectFrom('logs')
      .select([t.as('t'), 'type', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('date').as('first'), (eb) => eb.fn.max('date').as('last')])
      .where('type', 'in', [...types]).where('date', '>=', from).where('date', '<', to)
      .groupBy([t, 'type']).orderBy(t).execute();
    const suffix = bucket === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
    return rows.map((r) => ({ t: `${r.t}${suffix}`, type: r.type, n: Number(r.n), first: String(r.first), last: String(r.last) }));
  }
  async countActiveUsers(since: string): Promise<number> {
    const r = await this.db.selectFrom('logs')
      .select(sql<number>`count(distinct user_id)`.as('n'))
      .where('type', '=', 's').where('date', '>=', since).where('user_id', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async listDevOutbox(opts: { page: number; perPage: number }): Promise<{ items: DevOutboxRow[]; total: number }> {
    const q = this.db.selectFrom('outbox').where('status', '=', 'sent').where('payload', '<>', '');
    const [rows, total] = await Promise.all([
      q.select(['id', 'recipient', 'payload', 'meta', 'created_at']).orderBy('id', 'desc').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      items: rows.map((r) => ({ id: Number(r.id), recipient: r.recipient, payload: r.payload, meta: JSON.parse(r.meta) as Record<string, string>, created_at: Number(r.created_at) })),
      total: Number(total.n),
    };
  }
}
