import type { FastifyInstance } from 'fastify';
import { ACTIVITY_TYPES, activity } from '../../core/activity.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const COUNTS = Object.keys(ACTIVITY_TYPES);
const counts = { type: 'object', required: COUNTS, properties: Object.fromEntries(COUNTS.map((k) => [k, { type: 'integer' }])) } as const;
const activityView = {
  type: 'object',
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    bucket: { type: 'string', enum: ['hour', 'day'] },
    series: { type: 'array', items: { type: 'object', required: ['t', ...COUNTS], properties: { t: { type: 'string' }, ...counts.properties } } },
    today: counts,
  },
  required: ['from', 'to', 'bucket', 'series', 'today'],
} as const;

/**
 * Sesame extension (issue 12, Activity page): `GET /api/v2/sesame/activity?window=24h|7d` → the
 * window's counts per hour (24h) or UTC day (7d) — successful logins, failed attempts, codes and
 * links sent, deprecation notices — and today's totals (UTC). Counted in SQL (core/activity.ts).
 */
export function registerSesameActivity(api: FastifyInstance, s: Services): void {
  api.get<{ Querystring: { window?: '24h' | '7d' } }>(
    '/sesame/activity',
    {
      onRequest: requireScopes(s, 'read:stats', 'read:logs'),
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { window: { type: 'string', enum: ['24h', '7d'] } } },
        response: { 200: activityView },
      },
    },
    async (req) => activity(s, req.query.window ?? '24h'),
  );
}
