import type { FastifyInstance, RouteOptions } from 'fastify';

/** What the OpenAPI document needs of one registered route (issue 4 §4). */
export interface CollectedRoute {
  method: string;
  /** The full path as Fastify matches it, prefix included (`/api/v2/clients/:id`). */
  url: string;
  /** Scopes any one of which the route's token must carry (from its hooks' REQUIRED_SCOPES). */
  scopes?: string[];
  schema?: {
    body?: unknown;
    querystring?: unknown;
    params?: unknown;
    headers?: unknown;
    response?: Record<string, unknown>;
  };
}

/**
 * The marker a route hook carries to declare the scopes it requires (management/auth.ts
 * `requireScopes`): the document reads it from the hook the route really runs, so the declared
 * scopes cannot drift from the checked ones.
 */
export const REQUIRED_SCOPES = Symbol.for('sesame.requiredScopes');

type Hook = { [REQUIRED_SCOPES]?: readonly string[] };

/** The scopes declared by a route's request hooks (one function or an array), if any. */
function scopesOf(route: RouteOptions): string[] | undefined {
  const hooks = [route.onRequest, route.preValidation, route.preHandler].flatMap((h) => (h === undefined ? [] : Array.isArray(h) ? h : [h])) as Hook[];
  const declared = hooks.flatMap((h) => h[REQUIRED_SCOPES] ?? []);
  return declared.length ? [...new Set(declared)] : undefined;
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
      const scopes = scopesOf(route);
      routes.push({ method, url: route.url, ...(scopes ? { scopes } : {}), schema: route.schema as CollectedRoute['schema'] });
    }
  });
  return routes;
}
