import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmtCall } from '../helpers/management.ts';
import { registeredRoutes } from '../helpers/routes.ts';
import { SCOPE_TABLE } from '../helpers/scope-table.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
type Json = Record<string, any>;

/** Every schema object the document embeds, with where it is (for messages). */
function* schemasOf(doc: Json): Generator<[string, unknown]> {
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) yield [`components.schemas.${name}`, schema];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) yield [`${at} parameter ${p.name}`, p.schema];
      for (const [type, media] of Object.entries<Json>(op.requestBody?.content ?? {})) yield [`${at} body ${type}`, media.schema];
      for (const [code, res] of Object.entries<Json>(op.responses)) {
        for (const [type, media] of Object.entries<Json>(res.content ?? {})) yield [`${at} ${code} ${type}`, media.schema];
      }
    }
  }
}

/** A JSON pointer inside the document (`#/components/schemas/X`). */
function resolve(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local $refs: ${ref}`);
  return ref.slice(2).split('/').reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function refsOf(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) refsOf(v, found);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refsOf(v, found);
    }
  }
  return found;
}

/**
 * GET /api/v2/openapi.json (issue 4 §4): public, OpenAPI 3.1, generated from the route schemas.
 * No validator package is a dependency, so the structural rules of OpenAPI 3.1.0 that a generator
 * can break are checked here, and every embedded schema is compiled as JSON Schema 2020-12 (the
 * dialect OpenAPI 3.1 uses) by Ajv in strict mode. No store behaviour: SQLite only.
 */
describe('GET /api/v2/openapi.json', () => {
  let server: TestServer;
  let doc: Json;
  before(async () => {
    server = await bootServer({ backend: 'sqlite' });
  });
  after(() => server?.close());

  it('answers without a token', async () => {
    const res = await fetch(`${server.baseUrl}/api/v2/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await res.json()) as Json;
    assert.equal(doc.openapi, '3.1.0');
  });

  it('is a structurally valid OpenAPI 3.1 document', () => {
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    assert.deepEqual(doc.servers, [{ url: server.issuer }]);
    const tags = new Set(doc.tags.map((t: Json) => t.name));
    assert.deepEqual([...tags].sort(), ['authentication', 'management', 'pages']);
    const schemes = doc.components.securitySchemes;
    assert.deepEqual(schemes.bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

    const ids = new Set<string>();
    const templates = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      assert.match(path, /^\//, path);
      assert.doesNotMatch(path, /:/, `${path}: Fastify syntax left in the path`);
      // Paths equal but for parameter names are ambiguous (OpenAPI 3.1.0 §4.8.8).
      const template = path.replace(/\{[^}]+\}/g, '{}');
      assert.ok(!templates.has(template), `ambiguous path ${path}`);
      templates.add(template);
      const declared = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries<Json>(item)) {
        assert.ok(METHODS.includes(method), `${path}: ${method} is not an operation`);
        const at = `${method} ${path}`;
        assert.match(op.operationId, /^[A-Za-z0-9_]+$/, at);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} repeated`);
        ids.add(op.operationId);
        for (const tag of op.tags) assert.ok(tags.has(tag), `${at}: undeclared tag ${tag}`);
        const params: Json[] = op.parameters ?? [];
        const keys = params.map((p) => `${p.in}:${p.name}`);
        assert.equal(new Set(keys).size, keys.length, `${at}: repeated parameter`);
        for (const p of params) {
          assert.ok(['query', 'header', 'path', 'cookie'].includes(p.in), `${at}: ${p.name} in ${p.in}`);
          if (p.in === 'path') assert.equal(p.required, true, `${at}: path parameter ${p.name} must be required`);
          assert.ok(p.schema && typeof p.schema === 'object', `${at}: ${p.name} has no schema`);
        }
        // Every template segment is declared as a path parameter, and no other is.
        assert.deepEqual(params.filter((p) => p.in === 'path').map((p) => p.name).sort(), [...declared].sort(), at);
        if (op.requestBody) assert.ok(Object.keys(op.requestBody.content).length > 0, `${at}: empty requestBody`);
        assert.ok(Object.keys(op.responses).length > 0, `${at}: no responses`);
        for (const [code, res] of Object.entries<Json>(op.responses)) {
          assert.match(code, /^(?:[1-5](?:\d\d|XX)|default)$/, `${at}: response key ${code}`);
          assert.equal(typeof res.description, 'string', `${at} ${code}: description is required`);
        }
        for (const req of op.security ?? []) for (const name of Object.keys(req)) assert.ok(schemes[name], `${at}: unknown scheme ${name}`);
      }
    }
    for (const ref of refsOf(doc)) assert.ok(resolve(doc, ref) !== undefined, `dangling $ref ${ref}`);
  });

  it('embeds only valid JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false });
    const base = 'https://openapi.test/components/schemas/';
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, base + name);
    let count = 0;
    for (const [at, schema] of schemasOf(doc)) {
      assert.ok(schema && typeof schema === 'object', `${at}: not a schema`);
      // Local refs point into the document: compile them against it.
      const s = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${base}`));
      assert.doesNotThrow(() => ajv.compile(s), `${at}`);
      count++;
    }
    assert.ok(count > 20, `only ${count} schemas`);
  });

  it('lists every registered route, and only those', () => {
    const registered = registeredRoutes(server.app.printRoutes({ commonPrefix: false }));
    assert.ok(registered.has('POST /api/v2/resource-servers') && registered.has('POST /oauth/token') && registered.has('GET /login'));
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path.replace(/\{wildcard\}$/, '*').replace(/\{([^}]+)\}/g, ':$1')}`);
    }
    assert.deepEqual([...registered].filter((r) => !documented.has(r)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((r) => !registered.has(r)), [], 'documented routes that do not exist');
  });

  it('tags and secures operations by API', () => {
    const op = (method: string, path: string): Json => doc.paths[path][method];
    assert.deepEqual(op('get', '/api/v2/clients/{id}').tags, ['management']);
    assert.deepEqual(op('get', '/api/v2/clients/{id}').security, [{ bearer: ['read:clients'] }]);
    assert.deepEqual(op('get', '/api/v2/clients/{id}').parameters.find((p: Json) => p.name === 'id')?.in, 'path');
    assert.deepEqual(op('get', '/api/v2/openapi.json').security, []);
    assert.deepEqual(op('post', '/oauth/token').tags, ['authentication']);
    assert.deepEqual(op('post', '/oauth/token').security, []);
    assert.deepEqual(op('get', '/login').tags, ['pages']);
    assert.equal(op('put', '/api/v2/keys/signing/{kid}/revoke').operationId, 'put_api_v2_keys_signing_kid_revoke');
    // Paging parameters come from the list's querystring schema.
    const page = op('get', '/api/v2/clients').parameters.find((p: Json) => p.name === 'page');
    assert.deepEqual({ in: page.in, type: page.schema.type }, { in: 'query', type: 'integer' });
  });

  it('gives every Management API operation the scopes its route requires', async () => {
    const op = (method: string, path: string): Json => doc.paths[path][method];
    assert.deepEqual(op('post', '/api/v2/clients').security, [{ bearer: ['create:clients'] }]);
    assert.deepEqual(op('patch', '/api/v2/tenants/settings').security, [{ bearer: ['update:tenant_settings'] }]);
    // Any one of several scopes: one requirement object each (alternatives, OpenAPI 3.1 §4.8.30).
    assert.deepEqual(op('get', '/api/v2/logs').security, [{ bearer: ['read:logs'] }, { bearer: ['read:logs_users'] }]);
    assert.deepEqual(op('post', '/api/v2/keys/signing/rotate').security, [{ bearer: ['create:signing_keys'] }, { bearer: ['update:signing_keys'] }]);
    // Issue 10 §1: RBAC routes with Auth0's scopes.
    assert.deepEqual(op('post', '/api/v2/roles').security, [{ bearer: ['create:roles'] }]);
    assert.deepEqual(op('get', '/api/v2/users/{id}/roles').security, [{ bearer: ['read:users'] }, { bearer: ['read:roles'] }, { bearer: ['read:role_members'] }]);
    assert.deepEqual(op('post', '/api/v2/roles/{id}/users').security, [{ bearer: ['update:roles'] }, { bearer: ['create:role_members'] }]);

    const operations: [string, string, string[]][] = [];
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      if (!path.startsWith('/api/v2/') || path === '/api/v2/openapi.json') continue;
      for (const method of METHODS) {
        if (!item[method]) continue;
        const security = item[method].security as Json[];
        const scopes = security.flatMap((req) => req.bearer as string[]);
        assert.ok(security.length > 0 && security.every((req) => req.bearer.length === 1), `${method} ${path}: ${JSON.stringify(security)}`);
        operations.push([method, path, scopes]);
        // The document says what Auth0's reference says (test/helpers/scope-table.ts).
        const route = `${method.toUpperCase()} ${path}`;
        assert.deepEqual(scopes, SCOPE_TABLE[route], route);
      }
    }
    assert.ok(operations.length >= 40, `${operations.length} operations`);

    // The documented scopes are the enforced ones: a token with read:clients only is refused by
    // every other operation with Auth0's 403, which names the scopes the route checks.
    const client = (await mgmtCall(server, 'POST', '/clients', { name: `Scoped ${Date.now()}`, app_type: 'non_interactive', grant_types: ['client_credentials'] })).json;
    const audience = `${server.issuer}api/v2/`;
    assert.equal((await mgmtCall(server, 'POST', '/client-grants', { client_id: client.client_id, audience, scope: ['read:clients'] })).status, 201);
    const tok = await server.post('/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, audience });
    const { access_token } = (await tok.json()) as { access_token: string };
    for (const [method, path, scopes] of operations) {
      const url = `${server.baseUrl}${path.replace(/\{[^}]+\}/g, 'x')}`;
      const res = await fetch(url, { method: method.toUpperCase(), headers: { authorization: `Bearer ${access_token}` } });
      const body = (await res.json().catch(() => undefined)) as Json | undefined;
      if (scopes.includes('read:clients')) assert.notEqual(res.status, 403, `${method} ${path}`);
      else {
        assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(body)}`);
        assert.equal(body?.message, `Insufficient scope, expected any of: ${scopes.join(',')}`, `${method} ${path}`);
      }
    }
  });

  it('gives /api/v2/resource-servers the request body schema the server validates with', async () => {
    const create = doc.paths['/api/v2/resource-servers'].post.requestBody;
    assert.equal(create.required, true);
    const schema = create.content['application/json'].schema;
    assert.deepEqual(schema.required, ['identifier']);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.token_lifetime.type, 'integer');
    assert.ok(doc.paths['/api/v2/resource-servers/{id}'].patch.requestBody.content['application/json'].schema.properties.scopes);
    assert.ok(doc.paths['/api/v2/resource-servers'].post.responses['201'] ?? doc.paths['/api/v2/resource-servers'].post.responses['200']);

    // The document's schema and the server agree on what is a valid body.
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(schema);
    const good = { identifier: `https://api-${Date.now()}.example/`, name: 'Orders', token_lifetime: 600 };
    const bad = { identifier: 'https://other.example/', unknown_field: true };
    assert.equal(validate(good), true);
    assert.equal(validate(bad), false);
    assert.equal((await mgmtCall(server, 'POST', '/resource-servers', good)).status, 201);
    assert.equal((await mgmtCall(server, 'POST', '/resource-servers', bad)).status, 400);
  });
});
