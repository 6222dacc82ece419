import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newClient } from '../../src/core/clients.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';

type Json = Record<string, any>;
const DEFAULT_POLICY = {
  rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0,
  token_lifetime: 2_592_000, infinite_token_lifetime: false, idle_token_lifetime: 1_296_000, infinite_idle_token_lifetime: false,
};

/**
 * The client fields of issue 3 on the Management API, in Auth0's shapes: `refresh_token`,
 * `custom_login_page_on`, `custom_login_page`, `cross_origin_loc`, `initiate_login_uri`.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API: browser sign-in client fields [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let token: string;
    before(async () => {
      srv = await bootServer({ backend });
      token = await srv.mgmtToken();
    });
    after(() => srv?.close());

    async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
      const res = await fetch(`${srv.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: (await res.json()) as Json };
    }
    async function created(fields: Json = {}): Promise<string> {
      const res = await call('POST', '/clients', { name: 'Fields test', app_type: 'regular_web', ...fields });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return String(res.json.client_id);
    }
    const patch = (id: string, body: Json) => call('PATCH', `/clients/${id}`, body);
    function refused(res: { status: number; json: Json }, message: RegExp) {
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.errorCode, 'invalid_body');
      assert.match(String(res.json.message), message);
    }

    it('refresh_token: Sesame default on create, partial writes keep the rest, null resets', async () => {
      const id = await created();
      assert.deepEqual((await call('GET', `/clients/${id}`)).json.refresh_token, DEFAULT_POLICY);
      const set = await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 10 } });
      assert.deepEqual(set.json.refresh_token, { ...DEFAULT_POLICY, leeway: 10 });
      const again = await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', token_lifetime: 86_400, idle_token_lifetime: 3_600 } });
      assert.deepEqual(again.json.refresh_token, { ...DEFAULT_POLICY, leeway: 10, token_lifetime: 86_400, idle_token_lifetime: 3_600 });
      const nr = await patch(id, { refresh_token: { rotation_type: 'non-rotating', expiration_type: 'non-expiring' } });
      assert.equal(nr.json.refresh_token.rotation_type, 'non-rotating');
      assert.deepEqual((await patch(id, { refresh_token: null })).json.refresh_token, DEFAULT_POLICY);
      const onCreate = await call('POST', '/clients', { name: 'NR', refresh_token: { rotation_type: 'non-rotating', expiration_type: 'expiring', leeway: 3 } });
      assert.deepEqual(onCreate.json.refresh_token, { ...DEFAULT_POLICY, rotation_type: 'non-rotating', leeway: 3 });
    });

    it('refresh_token: what Sesame cannot honour is refused with a clear message', async () => {
      const id = await created();
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'non-expiring' } }), /expiration_type must be "expiring"/);
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', token_lifetime: 3_600, idle_token_lifetime: 7_200 } }), /idle_token_lifetime/);
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating' } }), /expiration_type/);
      refused(await patch(id, { refresh_token: { rotation_type: 'sometimes', expiration_type: 'expiring' } }), /rotation_type/);
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: -1 } }), /leeway/);
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', token_lifetime: 0 } }), /token_lifetime/);
      refused(await patch(id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', policies: [] } }), /policies/);
      assert.deepEqual((await call('GET', `/clients/${id}`)).json.refresh_token, DEFAULT_POLICY, 'unchanged');
    });

    it('custom_login_page_on and custom_login_page (at most 100 KB)', async () => {
      const page = `<!doctype html><html><body>${'x'.repeat(100_000)}</body></html>`;
      const id = await created({ custom_login_page_on: true, custom_login_page: page });
      const got = (await call('GET', `/clients/${id}`)).json;
      assert.deepEqual([got.custom_login_page_on, got.custom_login_page], [true, page]);
      refused(await patch(id, { custom_login_page: 'x'.repeat(102_401) }), /custom_login_page/);
      // 100 K characters but more than 100 KB of UTF-8.
      refused(await patch(id, { custom_login_page: 'é'.repeat(60_000) }), /bytes/);
      refused(await patch(id, { custom_login_page_on: 'yes' }), /custom_login_page_on/);
      assert.equal((await patch(id, { custom_login_page_on: false })).json.custom_login_page_on, false);
    });

    it('cross_origin_loc (http/https URL) and initiate_login_uri (https only); "" clears', async () => {
      const id = await created();
      const set = await patch(id, { cross_origin_loc: 'https://app.example.com/cross-origin.html', initiate_login_uri: 'https://app.example.com/login' });
      assert.deepEqual([set.json.cross_origin_loc, set.json.initiate_login_uri], ['https://app.example.com/cross-origin.html', 'https://app.example.com/login']);
      refused(await patch(id, { cross_origin_loc: 'javascript:alert(1)' }), /cross_origin_loc/);
      refused(await patch(id, { cross_origin_loc: 'not a url' }), /cross_origin_loc/);
      refused(await patch(id, { initiate_login_uri: 'http://app.example.com/login' }), /https/);
      refused(await patch(id, { initiate_login_uri: 'https://app.example.com/login#frag' }), /fragment/);
      const cleared = await patch(id, { cross_origin_loc: '', initiate_login_uri: '' });
      assert.deepEqual([cleared.json.cross_origin_loc, cleared.json.initiate_login_uri], [undefined, undefined]);
    });

    it('a client stored before these fields existed still reads and updates', async () => {
      const { client, secretHash } = newClient(srv.services.keyring, { name: 'Old', app_type: 'spa' });
      delete client.refresh_token;
      await srv.services.store.insertClient(client, secretHash);
      assert.equal((await call('GET', `/clients/${client.client_id}`)).status, 200);
      const res = await patch(client.client_id, { refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring', leeway: 5 } });
      assert.deepEqual(res.json.refresh_token, { ...DEFAULT_POLICY, leeway: 5 });
    });
  });
}
