import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MANAGEMENT_SCOPES } from '../../src/core/scopes.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt } from '../helpers/management.ts';
import { registeredRoutes } from '../helpers/routes.ts';
import { SCOPE_TABLE } from '../helpers/scope-table.ts';

/** Routes under /api/v2 that take no token at all. */
const PUBLIC = new Set(['GET /api/v2/openapi.json']);

for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API scopes, route by route [${backend}]`, { skip }, () => {
    let server: TestServer;
    let grantId: string;
    let clientId: string;
    let clientSecret: string;
    const tokens = new Map<string, string>();

    before(async () => {
      server = await bootServer({ backend });
      const client = await mgmt(server, 'POST', '/clients', { name: 'Scope prober', app_type: 'non_interactive', grant_types: ['client_credentials'] });
      ({ client_id: clientId, client_secret: clientSecret } = client);
      grantId = (await mgmt(server, 'POST', '/client-grants', { client_id: clientId, audience: `${server.issuer}api/v2/`, scope: ['read:clients'] })).id;
    });
    after(() => server?.close());

    /** A real client_credentials token holding exactly `scopes` (the grant is re-scoped first). */
    async function tokenWith(scopes: readonly string[]): Promise<string> {
      const key = [...scopes].sort().join(' ');
      let token = tokens.get(key);
      if (!token) {
        await mgmt(server, 'PATCH', `/client-grants/${grantId}`, { scope: scopes });
        const res = await server.post('/oauth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: `${server.issuer}api/v2/` });
        const body = (await res.json()) as { access_token: string; scope: string };
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.scope, scopes.join(' '));
        token = body.access_token;
        tokens.set(key, token);
      }
      return token;
    }

    const call = (route: string, token: string) => {
      const [method, path] = route.split(' ') as [string, string];
      return fetch(`${server.baseUrl}${path.replace(/\{[^}]+\}/g, 'x')}`, { method, headers: { authorization: `Bearer ${token}` } });
    };

    it('has a row for every Management API route, and a route for every row', () => {
      const routes = [...registeredRoutes(server.app.printRoutes({ commonPrefix: false }))]
        .filter((r) => r.split(' ')[1]!.startsWith('/api/v2/') && r.split(' ')[0] !== 'OPTIONS')
        .map((r) => r.replace(/:([A-Za-z_]+)/g, '{$1}'))
        .filter((r) => !PUBLIC.has(r));
      const missing = routes.filter((r) => !(r in SCOPE_TABLE));
      assert.deepEqual(missing, [], 'routes without a row in SCOPE_TABLE: add the scope from Auth0\'s reference');
      const stale = Object.keys(SCOPE_TABLE).filter((r) => !routes.includes(r));
      assert.deepEqual(stale, [], 'rows for routes Sesame does not have');
    });

    for (const [route, scopes] of Object.entries(SCOPE_TABLE)) {
      it(`${route} requires ${scopes.join(' or ')}`, async () => {
        // Every other scope Sesame grants, so a route checking any wrong scope lets this token in.
        const others = MANAGEMENT_SCOPES.filter((s) => !scopes.includes(s));
        const refused = await call(route, await tokenWith(others));
        assert.equal(refused.status, 403, `${route} let a token without ${scopes.join(' or ')} in`);
        assert.deepEqual(await refused.json(), {
          statusCode: 403,
          error: 'Forbidden',
          message: `Insufficient scope, expected any of: ${scopes.join(',')}`,
          errorCode: 'insufficient_scope',
        });
        // Each listed scope alone is enough (those a grant can hold: update:client_keys is not one).
        const grantable = scopes.filter((s) => (MANAGEMENT_SCOPES as readonly string[]).includes(s));
        assert.ok(grantable.length > 0, `${route}: no grantable scope`);
        for (const scope of grantable) {
          const res = await call(route, await tokenWith([scope]));
          const text = await res.text();
          // A 403 other than insufficient_scope is the route's own answer (a feature Sesame does not have).
          const scopeRefusal = res.status === 401 || (res.status === 403 && text.includes('"insufficient_scope"'));
          assert.ok(!scopeRefusal, `${route} refused a token holding ${scope}: ${res.status} ${text}`);
        }
      });
    }
  });
}
