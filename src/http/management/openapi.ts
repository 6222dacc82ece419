import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { type CollectedRoute, collectRoutes } from '../openapi-collector.ts';

type Json = Record<string, unknown>;
type Tag = 'management' | 'authentication' | 'pages';

export const OPENAPI_PATH = '/api/v2/openapi.json';

/** Auth0's Management API error envelope (src/errors/api-error.ts, spec §5). */
const managementError = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, errorCode: { type: 'string' } },
};
/** The Authentication API's OAuth error (RFC 6749 §5.2; src/errors/oauth-error.ts). */
const oauthError = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
};

/**
 * `GET /api/v2/openapi.json` (issue 4 §4): an OpenAPI 3.1 document of every route, generated from
 * the route schemas Fastify validates and serialises with, so it describes what the server really
 * accepts. Public, as the document holds no tenant data. Must be called before any other route is
 * registered (app.ts), because the collector only sees routes registered after it.
 */
export function registerOpenApi(app: FastifyInstance, s: Services): void {
  const routes = collectRoutes(app);
  let paths: Json | undefined;
  app.get(OPENAPI_PATH, async (_req, reply) => {
    // Built on the first request, when every route is registered; the issuer is read per request
    // because listen() may fix it after binding port 0.
    paths ??= buildPaths(routes);
    return reply.header('cache-control', 'public, max-age=60').send(openApiDocument(paths, s.issuer));
  });
}

function openApiDocument(paths: Json, issuer: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sesame',
      version: 'v2',
      description: 'Auth0-compatible passwordless authentication: the Management API (/api/v2), the Authentication API and the hosted pages.',
    },
    servers: [{ url: issuer }],
    tags: [
      { name: 'management', description: 'Management API (/api/v2), Bearer access token for <issuer>api/v2/' },
      { name: 'authentication', description: 'Authentication API (OAuth 2.0, OpenID Connect, passwordless)' },
      { name: 'pages', description: 'Hosted login pages (HTML)' },
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { ManagementError: managementError, OAuthError: oauthError },
    },
  };
}

/** Fastify `/clients/:id` (or `:id(regex)`) → OpenAPI `/clients/{id}`; `*` → `{wildcard}`. */
export function openApiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = url
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_m, name: string) => {
      params.push(name);
      return `{${name}}`;
    })
    .replace(/\*$/, () => {
      params.push('wildcard');
      return '{wildcard}';
    });
  return { path, params };
}

function tagOf(url: string): Tag {
  if (url.startsWith('/api/v2/') || url === '/api/v2') return 'management';
  if (url === '/' || url === '/login' || url.startsWith('/login/')) return 'pages';
  return 'authentication';
}

function buildPaths(routes: CollectedRoute[]): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const ids = new Set<string>();
  const sorted = [...routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const { path, params } = openApiPath(route.url);
    const op = operation(route, tagOf(route.url), params);
    let id = `${route.method.toLowerCase()}_${path.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
    for (let n = 2; ids.has(id); n++) id = `${id}_${n}`;
    ids.add(id);
    (paths[path] ??= {})[route.method.toLowerCase()] = { operationId: id, ...op };
  }
  return paths;
}

function operation(route: CollectedRoute, tag: Tag, pathParams: string[]): Json {
  const schema = route.schema ?? {};
  const op: Json = { tags: [tag], summary: `${route.method} ${route.url}` };

  const parameters: Json[] = [];
  const paramSchema = objectSchema(schema.params);
  // Every templated path segment must be declared (OpenAPI 3.1 §4.8.12.1), schema or not.
  for (const name of pathParams) parameters.push({ name, in: 'path', required: true, schema: paramSchema.properties[name] ?? { type: 'string' } });
  const query = objectSchema(schema.querystring);
  for (const [name, s] of Object.entries(query.properties)) parameters.push({ name, in: 'query', required: query.required.includes(name), schema: s });
  const headers = objectSchema(schema.headers);
  for (const [name, s] of Object.entries(headers.properties)) {
    if (name.toLowerCase() === 'authorization') continue; // described by `security`
    parameters.push({ name, in: 'header', required: headers.required.includes(name), schema: s });
  }
  if (parameters.length) op.parameters = parameters;

  if (schema.body !== undefined) {
    // The Authentication API also takes form posts (@fastify/formbody), as Auth0's does.
    const content: Json = { 'application/json': { schema: schema.body } };
    if (tag !== 'management') content['application/x-www-form-urlencoded'] = { schema: schema.body };
    op.requestBody = { required: true, content };
  }

  const responses: Json = {};
  for (const [code, body] of Object.entries(schema.response ?? {})) {
    const key = /^[1-5]xx$/i.test(code) ? code.toUpperCase() : code;
    const content = body === null || typeof body !== 'object' || Object.keys(body).length === 0 ? undefined : { 'application/json': { schema: body } };
    responses[key] = { description: key === 'default' ? 'Response' : `HTTP ${key}`, ...(content ? { content } : {}) };
  }
  if (!Object.keys(responses).some((c) => c.startsWith('2') || c === 'default')) responses.default = { description: 'Response' };

  if (tag === 'management' && route.url !== OPENAPI_PATH) {
    // requireScopes takes any one of its scopes: one requirement object per scope, since the
    // scopes listed in a single requirement would all be required (OpenAPI 3.1 §4.8.30).
    op.security = route.scopes ? route.scopes.map((scope) => ({ bearer: [scope] })) : [{ bearer: [] }];
    responses['4XX'] ??= { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/ManagementError' } } } };
  } else {
    op.security = []; // no token: the Authentication API authenticates clients in the request itself
  }
  op.responses = responses;
  return op;
}

/** The `properties`/`required` of an object schema (Fastify route schemas are plain objects). */
function objectSchema(schema: unknown): { properties: Record<string, unknown>; required: string[] } {
  const s = (schema ?? {}) as { properties?: Record<string, unknown>; required?: readonly string[] };
  return { properties: s.properties ?? {}, required: [...(s.required ?? [])] };
}
