import type { FastifyInstance } from 'fastify';
import { LogQueryError, parseLogQuery } from '../../core/log-query.ts';
import { ApiError, invalidQuery, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { LogSearch } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { DEFAULT_PER_PAGE, type FieldsInput, type PagingInput, MAX_PER_PAGE, fieldsQuery, listBody, listSchema, paging, pagingQuery, projection } from './paging.ts';
import { idParams, logView } from './schemas.ts';

interface LogsQuery extends PagingInput, FieldsInput {
  q?: string;
  /** The name Auth0's current reference gives the query (`q` is the older one); the same language. */
  search?: string;
  sort?: string;
  from?: string;
  take?: number;
}

/** Auth0 stops search paging at the first 1,000 results (LOGAPI). */
const SEARCH_WINDOW = 1000;
const SORT = /^(date|log_id|type):(1|-1)$/;

/**
 * `GET /api/v2/logs` and `/logs/{id}` (spec §5, LOGAPI). Two modes:
 * - search: `q` (log-query.ts), `sort`, `page`/`per_page` within the first 1,000 results,
 *   `include_totals`, `fields`/`include_fields`;
 * - checkpoint, as soon as `from` or `take` is present: every other parameter is ignored, logs
 *   come in ascending log_id order after `from`, and the `Link: <…>; rel="next"` header points at
 *   the next page (the same URL again when this page is empty, so a poller can keep calling it).
 */
export function registerLogs(api: FastifyInstance, s: Services): void {
  const scopes = requireScopes(s, 'read:logs', 'read:logs_users');

  api.get<{ Querystring: LogsQuery }>(
    '/logs',
    {
      onRequest: scopes,
      schema: {
        querystring: {
          type: 'object',
          // Auth0 ignores the other parameters in checkpoint mode; unknown ones are still errors.
          additionalProperties: false,
          properties: {
            ...pagingQuery,
            ...fieldsQuery,
            // Longer than the 2,000 the parser takes, so an over-long q gets the parser's 414.
            q: { type: 'string', maxLength: 16_384 },
            search: { type: 'string', maxLength: 16_384 },
            sort: { type: 'string', maxLength: 20 },
            from: { type: 'string', maxLength: 64, pattern: '^[0-9]+$' },
            take: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE },
          },
        },
        response: { 200: listSchema('logs', logView) },
      },
    },
    async (req, reply) => {
      const query = req.query;
      if (query.from !== undefined || query.take !== undefined) {
        const take = query.take ?? DEFAULT_PER_PAGE;
        const logs = await s.store.logsAfter(query.from ?? null, take);
        const next = logs.at(-1)?.log_id ?? query.from;
        const url = new URL('api/v2/logs', s.issuer);
        if (next !== undefined) url.searchParams.set('from', next);
        url.searchParams.set('take', String(take));
        reply.header('link', `<${url.href}>; rel="next"`);
        return logs;
      }

      const p = paging(query);
      if (p.page * p.perPage + p.perPage > SEARCH_WINDOW) {
        throw invalidQuery(
          `You can only page through the first ${SEARCH_WINDOW} records (page * per_page + per_page must not exceed ${SEARCH_WINDOW}). Use checkpoint paging (from/take) to read further.`,
        );
      }
      const search: LogSearch = { query: null, page: p.page, perPage: p.perPage, sort: parseSort(query.sort) };
      if (query.q !== undefined && query.search !== undefined) throw invalidQuery('Use either q or search, not both: they are the same query');
      const q = query.q ?? query.search;
      if (q !== undefined && q.trim() !== '') search.query = parseQuery(q, s.now());
      const { items, total } = await s.store.searchLogs(search);
      return listBody('logs', items.map(projection(query)), total, p);
    },
  );

  api.get<{ Params: { id: string } }>(
    '/logs/:id',
    { onRequest: scopes, schema: { params: idParams, response: { 200: logView } } },
    async (req) => {
      const log = await s.store.getLog(req.params.id);
      if (!log) throw notFound('The log event does not exist', 'inexistent_log');
      return log;
    },
  );
}

function parseSort(sort: string | undefined): LogSearch['sort'] {
  if (sort === undefined) return { field: 'date', dir: 'desc' };
  const m = SORT.exec(sort);
  if (!m) throw invalidQuery(`Query validation error: 'sort must be <field>:1 or <field>:-1 with field date, log_id or type' on property sort.`);
  return { field: m[1]!, dir: m[2] === '1' ? 'asc' : 'desc' };
}

function parseQuery(q: string, now: number) {
  try {
    return parseLogQuery(q, now);
  } catch (err) {
    if (!(err instanceof LogQueryError)) throw err;
    // Auth0 answers an over-long query with 414 Request-URI Too Large (spec §5).
    if (err.code === 'too_long') throw new ApiError(414, err.message, 'invalid_query_string');
    throw invalidQuery(err.message);
  }
}
