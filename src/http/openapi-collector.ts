import type { FastifyInstance, RouteOptions } from 'fastify';

/** What the OpenAPI document needs of one registered route (issue 4 §4). */
export interface CollectedRoute {
  method: string;
  /** The full path as Fastify matches it, prefix included (`/api/v2/clients/:id`). */
  url: string;
  schema?: {
    body?: unknown;
    querystring?: unknown;
    params?: unknown;
    headers?: unknown;
    response?: Record<string, unknown>;
  };
}

/**
 * Collects every route as it is registered, from Fastify's own registry (`onRoute`), so the
 * document cannot drift from the routes that answer. The hook must be added before any route:
 * Fastify calls it only for routes registered after it (in this context and its children).
 * HEAD routes Fastify adds for each GET (`exposeHeadRoutes`) are left out: they are not operations
 * of their own.
 */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url, schema: route.schema as CollectedRoute['schema'] });
    }
  });
  return routes;
}
