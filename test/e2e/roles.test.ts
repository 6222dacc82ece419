import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagementApiError, ManagementClient } from 'auth0';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT } from '../helpers/boot.ts';
import { tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';

type Json = Record<string, any>;
let n = 0;
const unique = (tag: string) => `${tag}-${Date.now().toString(36)}-${++n}`;

/**
 * Issue 10 §1: `/api/v2/roles`, `/roles/{id}/permissions`, `/roles/{id}/users`,
 * `/users/{id}/roles` and `/users/{id}/permissions` in Auth0's shapes, paging and scopes, over HTTP
 * and through the official node-auth0 ManagementClient (which only speaks https).
 */
const tls = await tlsSetup();
const f = tls.fetch;

for (const { backend, skip } of await backendMatrix()) {
  describe(`roles and permissions API [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { env: tls.env });
    const tokens = new Map<string, string>();

    async function token(client = MGMT): Promise<string> {
      let t = tokens.get(client.client_id);
      if (!t) {
        const r = await tokenRequest(ctx.server, f, { grant_type: 'client_credentials', ...client, audience: `${ctx.server.issuer}api/v2/` });
        assert.equal(r.status, 200, r.text);
        tokens.set(client.client_id, (t = String(r.body.access_token)));
      }
      return t;
    }
    async function call(method: string, path: string, body?: unknown, bearer?: string): Promise<{ status: number; json: any }> {
      const res = await f(`${ctx.server.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer ?? (await token())}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    }
    async function expectStatus(p: Promise<{ status: number; json: any }>, status: number, errorCode?: string): Promise<any> {
      const r = await p;
      assert.equal(r.status, status, JSON.stringify(r.json));
      if (errorCode) assert.equal(r.json.errorCode, errorCode, JSON.stringify(r.json));
      return r.json;
    }
    const api = async () => expectStatus(call('POST', '/resource-servers', {
      identifier: `https://${unique('orders')}.example`, name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders' }],
    }), 201);
    const user = async () => (await expectStatus(call('POST', '/users', { connection: 'email', email: uniqueEmail() }), 201)) as Json;
    const u = (id: string) => encodeURIComponent(id);

    it('creates, reads, lists (paging, name_filter), renames and deletes roles', async () => {
      const name = unique('Support');
      const role = await expectStatus(call('POST', '/roles', { name, description: 'Support agents' }), 200);
      assert.match(role.id, /^rol_[A-Za-z0-9]{16}$/);
      assert.deepEqual(role, { id: role.id, name, description: 'Support agents' });
      assert.deepEqual(await expectStatus(call('GET', `/roles/${role.id}`), 200), role);
      await expectStatus(call('POST', '/roles', { name }), 409, 'conflict');
      await expectStatus(call('POST', '/roles', { description: 'no name' }), 400);
      await expectStatus(call('POST', '/roles', { name: 'x', permissions: [] }), 400);

      const other = await expectStatus(call('POST', '/roles', { name: unique('Billing') }), 200);
      assert.equal(other.description, '');
      const filtered = await expectStatus(call('GET', `/roles?name_filter=${encodeURIComponent(name.toUpperCase())}`), 200);
      assert.deepEqual(filtered, [role]);
      const page = await expectStatus(call('GET', '/roles?per_page=1&page=0&include_totals=true'), 200);
      assert.deepEqual([page.start, page.limit, page.length, page.roles.length], [0, 1, 1, 1]);
      assert.ok(page.total >= 2);

      const renamed = await expectStatus(call('PATCH', `/roles/${role.id}`, { name: `${name}-2` }), 200);
      assert.deepEqual(renamed, { ...role, name: `${name}-2` });
      await expectStatus(call('PATCH', `/roles/${role.id}`, { name: other.name }), 409, 'conflict');
      await expectStatus(call('DELETE', `/roles/${role.id}`), 200);
      await expectStatus(call('GET', `/roles/${role.id}`), 404, 'inexistent_role');
      await expectStatus(call('DELETE', `/roles/${role.id}`), 404, 'inexistent_role');
    });

    it('role permissions and members; a user’s roles and permissions with their sources', async () => {
      const orders = await api();
      const role = await expectStatus(call('POST', '/roles', { name: unique('Reader') }), 200);
      const read = { resource_server_identifier: orders.identifier, permission_name: 'read:orders' };
      const write = { resource_server_identifier: orders.identifier, permission_name: 'write:orders' };
      await expectStatus(call('POST', `/roles/${role.id}/permissions`, { permissions: [read, read] }), 201);
      // A scope the API does not define, an API that does not exist: refused, nothing assigned.
      await expectStatus(call('POST', `/roles/${role.id}/permissions`, { permissions: [write, { ...read, permission_name: 'admin' }] }), 400, 'invalid_body');
      await expectStatus(call('POST', `/roles/${role.id}/permissions`, { permissions: [{ ...read, resource_server_identifier: 'https://nowhere.example' }] }), 400, 'invalid_body');
      await expectStatus(call('POST', `/roles/rol_doesnotexist0000/permissions`, { permissions: [read] }), 404, 'inexistent_role');
      assert.deepEqual(await expectStatus(call('GET', `/roles/${role.id}/permissions`), 200), [
        { permission_name: 'read:orders', description: 'Read orders', resource_server_name: 'Orders', resource_server_identifier: orders.identifier },
      ]);

      const [a, b] = [await user(), await user()];
      await expectStatus(call('POST', `/roles/${role.id}/users`, { users: [a.user_id, b.user_id] }), 200);
      await expectStatus(call('POST', `/roles/${role.id}/users`, { users: ['email|nobody'] }), 404, 'inexistent_user');
      const members = await expectStatus(call('GET', `/roles/${role.id}/users?include_totals=true`), 200);
      assert.equal(members.total, 2);
      assert.deepEqual(members.users.map((m: Json) => m.user_id).sort(), [a.user_id, b.user_id].sort());
      assert.deepEqual(Object.keys(members.users.find((m: Json) => m.user_id === a.user_id)).sort(), ['email', 'user_id']);
      assert.deepEqual(await expectStatus(call('GET', `/users/${u(a.user_id)}/roles`), 200), [role]);
      // Checkpoint paging (from/take): one member a page, then no `next` after the last.
      const sorted = [a.user_id, b.user_id].sort();
      const first = await expectStatus(call('GET', `/roles/${role.id}/users?take=1`), 200);
      assert.deepEqual(first.users.map((m: Json) => m.user_id), [sorted[0]]);
      assert.equal(typeof first.next, 'string');
      const second = await expectStatus(call('GET', `/roles/${role.id}/users?take=1&from=${encodeURIComponent(first.next)}`), 200);
      assert.deepEqual(second.users.map((m: Json) => m.user_id), [sorted[1]]);
      const third = await expectStatus(call('GET', `/roles/${role.id}/users?take=1&from=${encodeURIComponent(second.next)}`), 200);
      assert.deepEqual(third, { users: [] });
      await expectStatus(call('GET', `/roles/${role.id}/users?from=%2B%2B%2B`), 400, 'invalid_query_string');

      await expectStatus(call('POST', `/users/${u(a.user_id)}/permissions`, { permissions: [read, write] }), 201);
      const held = await expectStatus(call('GET', `/users/${u(a.user_id)}/permissions`), 200);
      assert.deepEqual(held, [
        {
          permission_name: 'read:orders', description: 'Read orders', resource_server_name: 'Orders', resource_server_identifier: orders.identifier,
          sources: [{ source_id: '', source_name: '', source_type: 'DIRECT' }, { source_id: role.id, source_name: role.name, source_type: 'ROLE' }],
        },
        {
          permission_name: 'write:orders', resource_server_name: 'Orders', resource_server_identifier: orders.identifier,
          sources: [{ source_id: '', source_name: '', source_type: 'DIRECT' }],
        },
      ]);
      const paged = await expectStatus(call('GET', `/users/${u(a.user_id)}/permissions?per_page=1&page=1&include_totals=true`), 200);
      assert.deepEqual([paged.total, paged.permissions.map((p: Json) => p.permission_name)], [2, ['write:orders']]);

      await expectStatus(call('DELETE', `/users/${u(a.user_id)}/permissions`, { permissions: [read, write] }), 204);
      await expectStatus(call('DELETE', `/users/${u(a.user_id)}/roles`, { roles: [role.id] }), 204);
      assert.deepEqual(await expectStatus(call('GET', `/users/${u(a.user_id)}/permissions`), 200), []);
      await expectStatus(call('DELETE', `/roles/${role.id}/permissions`, { permissions: [read] }), 200);
      assert.deepEqual(await expectStatus(call('GET', `/roles/${role.id}/permissions`), 200), []);
      // Deleting a user drops it from its roles.
      await expectStatus(call('DELETE', `/users/${u(b.user_id)}`), 204);
      assert.deepEqual(await expectStatus(call('GET', `/roles/${role.id}/users`), 200), []);
      await expectStatus(call('GET', `/users/${u(b.user_id)}/roles`), 404, 'inexistent_user');
      await expectStatus(call('POST', `/users/${u(a.user_id)}/roles`, { roles: ['rol_doesnotexist0000'] }), 404, 'inexistent_role');
    });

    it('each route asks for Auth0’s scopes', async () => {
      const narrow = await createClient(ctx.server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      await expectStatus(call('POST', '/client-grants', { client_id: narrow.client.client_id, audience: `${ctx.server.issuer}api/v2/`, scope: ['read:roles'] }), 201);
      const t = await token({ client_id: narrow.client.client_id, client_secret: narrow.secret });
      assert.ok(Array.isArray(await expectStatus(call('GET', '/roles', undefined, t), 200)));
      const denied = await expectStatus(call('POST', '/roles', { name: unique('x') }, t), 403, 'insufficient_scope');
      assert.equal(denied.message, 'Insufficient scope, expected any of: create:roles');
      const someone = await user();
      await expectStatus(call('GET', `/users/${u(someone.user_id)}/roles`, undefined, t), 200);
      await expectStatus(call('GET', `/users/${u(someone.user_id)}/permissions`, undefined, t), 403, 'insufficient_scope');
      await expectStatus(call('GET', '/roles', undefined, 'not-a-token'), 401);
    });

    it('the official ManagementClient manages roles, members and permissions unchanged', async () => {
      const domain = new URL(ctx.server.issuer).host;
      const sdk = new ManagementClient({ domain, clientId: MGMT.client_id, clientSecret: MGMT.client_secret, fetch: f, retry: { enabled: false } });
      const orders = await api();
      const perm = { resource_server_identifier: orders.identifier, permission_name: 'write:orders' };
      const { data: role } = await sdk.roles.create({ name: unique('SDK role'), description: 'Made by node-auth0' });
      assert.match(role.id, /^rol_/);
      const { data: totals } = await sdk.roles.getAll({ include_totals: true, per_page: 100 });
      assert.ok(totals.roles.some((r) => r.id === role.id));
      await sdk.roles.update({ id: role.id }, { description: 'Updated' });
      assert.equal((await sdk.roles.get({ id: role.id })).data.description, 'Updated');
      await sdk.roles.addPermissions({ id: role.id }, { permissions: [perm] });
      assert.deepEqual((await sdk.roles.getPermissions({ id: role.id })).data.map((p) => p.permission_name), ['write:orders']);

      const someone = await user();
      await sdk.roles.assignUsers({ id: role.id }, { users: [someone.user_id] });
      assert.deepEqual((await sdk.roles.getUsers({ id: role.id })).data.map((m) => m.user_id), [someone.user_id]);
      const checkpoint = (await sdk.roles.getUsers({ id: role.id, take: 10 })).data as unknown as { users: Json[]; next?: string };
      assert.deepEqual([checkpoint.users.map((m) => m.user_id), checkpoint.next], [[someone.user_id], undefined]);
      assert.deepEqual((await sdk.users.getRoles({ id: someone.user_id })).data.map((r) => r.id), [role.id]);
      await sdk.users.deleteRoles({ id: someone.user_id }, { roles: [role.id] });
      await sdk.users.assignRoles({ id: someone.user_id }, { roles: [role.id] });
      await sdk.users.assignPermissions({ id: someone.user_id }, { permissions: [{ ...perm, permission_name: 'read:orders' }] });
      const { data: held } = await sdk.users.getPermissions({ id: someone.user_id, include_totals: true });
      assert.deepEqual(held.permissions.map((p) => p.permission_name), ['read:orders', 'write:orders']);
      await sdk.users.deletePermissions({ id: someone.user_id }, { permissions: [{ ...perm, permission_name: 'read:orders' }] });
      await sdk.roles.deletePermissions({ id: role.id }, { permissions: [perm] });
      assert.deepEqual((await sdk.users.getPermissions({ id: someone.user_id })).data, []);

      await sdk.roles.delete({ id: role.id });
      try {
        await sdk.roles.get({ id: role.id });
        assert.fail('the deleted role was still found');
      } catch (err) {
        assert.ok(err instanceof ManagementApiError, String(err));
        assert.deepEqual([err.statusCode, err.errorCode], [404, 'inexistent_role']);
      }
    });
  });
}
