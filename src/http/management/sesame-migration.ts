import type { FastifyInstance } from 'fastify';
import { localReport } from '../../migration/local.ts';
import { FEATURE_ID } from '../../migration/notices.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const texts = { type: 'array', items: { type: 'string' } } as const;
const applicationView = {
  type: 'object',
  properties: {
    client_id: { type: 'string' },
    client_name: { type: 'string' },
    app_type: { type: ['string', 'null'] },
    classification: { type: 'string', enum: ['backend', 'browser', 'login_page'] },
    count: { type: 'integer' },
    first_seen: { type: 'string' },
    last_seen: { type: 'string' },
    ips: texts,
    user_agents: texts,
    sdks: { type: 'array', items: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string' }, version: { type: ['string', 'null'] } } } },
    fix: { type: 'string' },
  },
  // Every field is always there (migration/classify.ts Application): the dashboard's generated types say so.
  required: ['client_id', 'client_name', 'app_type', 'classification', 'count', 'first_seen', 'last_seen', 'ips', 'user_agents', 'sdks', 'fix'],
} as const;
const reportView = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    callers_left: { type: 'integer' },
    [FEATURE_ID]: { type: 'boolean' },
    window: { type: 'object', required: ['since', 'until'], properties: { since: { type: 'string' }, until: { type: 'string' } } },
    total: { type: 'integer' },
    applications: { type: 'array', items: applicationView },
  },
  required: ['ready', 'callers_left', FEATURE_ID, 'window', 'total', 'applications'],
} as const;

const DAY = 86_400_000;

/**
 * Sesame extension (issue 12, Migration panel): `GET /api/v2/sesame/migration?days=30` → what
 * `sesame migration-report --since <days>d --json` prints — every application that made
 * unauthenticated passwordless starts in the window, per kind of caller, with the fix — plus
 * `callers_left` and the enforcement flag's current value. Computed in-process (migration/local.ts).
 */
export function registerSesameMigration(api: FastifyInstance, s: Services): void {
  api.get<{ Querystring: { days?: number } }>(
    '/sesame/migration',
    {
      onRequest: requireScopes(s, 'read:logs'),
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 1, maximum: 365 } } },
        response: { 200: reportView },
      },
    },
    async (req) => {
      const now = s.now();
      return localReport(s, { since: now - (req.query.days ?? 30) * DAY, until: now });
    },
  );
}
