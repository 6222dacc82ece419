import type { FastifyInstance } from 'fastify';
import { invalidQuery, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';
import { type PagingInput, listBody, listSchema, paging, pagingQuery } from './paging.ts';
import { idParams, logView } from './schemas.ts';

const SORT = /^(date|log_id|type):(1|-1)$/;

/**
 * Auth0's `GET /api/v2/users/{id}/logs` (scope `read:logs` or `read:logs_users`): the user's log
 * events, newest first unless `sort` says otherwise, with `page`/`per_page`/`include_totals`
 * (`{start, limit, length, total, logs}`). An unknown user is a 404 as for `/users/{id}`.
 */
export function registerUserLogs(api: FastifyInstance, s: Services): void {
  api.get<{ Params: { id: string }; Querystring: PagingInput & { sort?: string } }>(
    '/users/:id/logs',
    {
      onRequest: requireScopes(s, 'read:logs', 'read:logs_users'),
      schema: {
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { ...pagingQuery, sort: { type: 'string', maxLength: 20 } } },
        response: { 200: listSchema('logs', logView) },
      },
    },
    async (req) => {
      const m = req.query.sort === undefined ? undefined : SORT.exec(req.query.sort);
      if (m === null) throw invalidQuery(`Query validation error: 'sort must be <field>:1 or <field>:-1 with field date, log_id or type' on property sort.`);
      if (!(await s.store.getUser(req.params.id))) throw notFound('The user does not exist.', 'inexistent_user');
      const p = paging(req.query);
      const { items, total } = await s.store.searchLogs({
        query: { kind: 'term', fields: ['user_id'], value: req.params.id, wildcard: false },
        page: p.page,
        perPage: p.perPage,
        sort: m ? { field: m[1]!, dir: m[2] === '1' ? 'asc' : 'desc' } : { field: 'date', dir: 'desc' },
      });
      return listBody('logs', items, total, p);
    },
  );
}
