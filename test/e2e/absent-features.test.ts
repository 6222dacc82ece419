import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmtCall } from '../helpers/management.ts';

/**
 * Issue 14: Auth0 resources Sesame has no feature for read as an Auth0 tenant that does not use
 * them, a write that keeps the default succeeds (auth0-deploy-cli re-applies what it exported), and
 * one that would create or change something is refused with 403 feature_not_enabled naming it.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`Auth0 resources Sesame does not have [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(async () => server?.close());
    const call = (method: string, path: string, body?: unknown) => mgmtCall(server, method, path, body);

    it('lists are empty, in each API family’s own paging shape', async () => {
      assert.deepEqual((await call('GET', '/rules')).json, []);
      assert.deepEqual((await call('GET', '/rules?include_totals=true&per_page=10&page=2')).json, { start: 20, limit: 10, length: 0, total: 0, rules: [] });
      assert.deepEqual((await call('GET', '/actions/actions?per_page=5')).json, { total: 0, page: 0, per_page: 5, actions: [] });
      assert.deepEqual((await call('GET', '/organizations?take=50')).json, { organizations: [] });
      assert.deepEqual((await call('GET', '/forms')).json, { start: 0, limit: 50, total: 0, forms: [] });
      assert.ok((await call('GET', '/actions/triggers')).json.triggers.some((t: { id: string }) => t.id === 'post-login'));
      assert.deepEqual((await call('GET', '/guardian/factors')).json.every((f: { enabled: boolean }) => f.enabled === false), true);
      assert.deepEqual((await call('GET', '/rules/rul_1')).status, 404);
    });

    it('refuses writes that would use the feature, naming it; accepts writes that change nothing', async () => {
      const rule = await call('POST', '/rules', { name: 'r', script: 'function(){}' });
      assert.deepEqual([rule.status, rule.json.errorCode], [403, 'feature_not_enabled']);
      assert.match(rule.json.message, /^Sesame does not support rules\./);
      const mfa = await call('PUT', '/guardian/factors/otp', { enabled: true });
      assert.deepEqual([mfa.status, mfa.json.errorCode], [403, 'feature_not_enabled']);
      assert.match(mfa.json.message, /multi-factor/);
      assert.deepEqual(await call('PUT', '/guardian/factors/otp', { enabled: false }), { status: 200, json: { enabled: false } });
      assert.equal((await call('PATCH', '/actions/triggers/post-login/bindings', { bindings: [] })).status, 200);
      assert.equal((await call('PATCH', '/actions/triggers/post-login/bindings', { bindings: [{ ref: { type: 'action_name', value: 'x' } }] })).status, 403);
    });

    it('serves the tenant login page through Auth0’s global client', async () => {
      const patch = await call('PATCH', '/clients/sesame-global-client', { custom_login_page_on: true, custom_login_page: '<p>@@config@@</p>' });
      assert.equal(patch.status, 200);
      const tenant = (await call('GET', '/tenants/settings')).json;
      assert.deepEqual([tenant.custom_login_page_on, tenant.custom_login_page], [true, '<p>@@config@@</p>']);
      assert.equal((await call('PATCH', '/clients/sesame-global-client', { callbacks: ['https://x.example/cb'] })).status, 400);
      assert.equal((await call('DELETE', '/clients/sesame-global-client')).status, 400);
    });
  });
}
