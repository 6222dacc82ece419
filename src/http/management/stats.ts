import type { FastifyInstance } from 'fastify';
import { dailyStats } from '../../core/activity.ts';
import { invalidQuery } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const DAY = 86_400_000;
/** At most a year of days per call: the answer has one entry per day. */
const MAX_DAYS = 366;
const YYYYMMDD = '^[0-9]{8}$';

const dailyView = {
  type: 'object',
  properties: {
    date: { type: 'string' },
    logins: { type: 'integer' },
    signups: { type: 'integer' },
    leaked_passwords: { type: 'integer' },
    updated_at: { type: ['string', 'null'] },
    created_at: { type: ['string', 'null'] },
  },
} as const;

/** `YYYYMMDD` → epoch ms of that UTC day; undefined if it is not a real date. */
function day(value: string): number | undefined {
  const ms = Date.UTC(Number(value.slice(0, 4)), Number(value.slice(4, 6)) - 1, Number(value.slice(6, 8)));
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '') === value ? ms : undefined;
}

/**
 * Auth0's Stats endpoints (scope `read:stats`), computed from the logs with one GROUP BY:
 * `GET /stats/daily?from=YYYYMMDD&to=YYYYMMDD` (both inclusive; default the last 30 days) and
 * `GET /stats/active-users`, the number of users who signed in during the last 30 days.
 */
export function registerStats(api: FastifyInstance, s: Services): void {
  api.get<{ Querystring: { from?: string; to?: string } }>(
    '/stats/daily',
    {
      onRequest: requireScopes(s, 'read:stats'),
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', pattern: YYYYMMDD }, to: { type: 'string', pattern: YYYYMMDD } } },
        response: { 200: { type: 'array', items: dailyView } },
      },
    },
    async (req) => {
      const today = Math.floor(s.now() / DAY) * DAY;
      const to = req.query.to !== undefined ? day(req.query.to) : today;
      if (to === undefined) throw invalidQuery(`Query validation error: 'to is not a valid date (YYYYMMDD)' on property to.`);
      const from = req.query.from !== undefined ? day(req.query.from) : to - 29 * DAY;
      if (from === undefined) throw invalidQuery(`Query validation error: 'from is not a valid date (YYYYMMDD)' on property from.`);
      if (from > to) throw invalidQuery('from must not be after to');
      if ((to - from) / DAY + 1 > MAX_DAYS) throw invalidQuery(`The date range must not exceed ${MAX_DAYS} days`);
      return dailyStats(s, from, to);
    },
  );

  api.get(
    '/stats/active-users',
    { onRequest: requireScopes(s, 'read:stats'), schema: { response: { 200: { type: 'integer' } } } },
    async () => s.store.countActiveUsers(new Date(s.now() - 30 * DAY).toISOString()),
  );
}
