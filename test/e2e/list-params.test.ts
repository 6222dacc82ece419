import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/**
 * Issue 14, the list-endpoint audit (docs/auth0-compat.md, "List endpoints and their query
 * parameters"): the query parameters Auth0's reference has that Sesame lacked and could answer
 * cheaply. `/logs?search=` is the reference's name for `q`; `/resource-servers?identifiers=` picks
 * APIs by audience, and takes `include_fields` as Auth0 does.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`list query parameters from Auth0's reference [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(async () => server?.close());
    const call = (path: string) => mgmtCall(server, 'GET', path);

    it('GET /logs?search= is the same query as q; both at once is a 400', async () => {
      const query = encodeURIComponent('type:seccft');
      const byQ = (await call(`/logs?q=${query}`)).json;
      assert.ok(byQ.length > 0, 'the management token left a seccft log');
      assert.deepEqual((await call(`/logs?search=${query}`)).json, byQ);
      const both = await call(`/logs?q=${query}&search=${query}`);
      assert.deepEqual([both.status, both.json.errorCode], [400, 'invalid_query_string']);
    });

    it('GET /resource-servers?identifiers= lists the APIs with those audiences (the Management API too), in Auth0’s paging', async () => {
      const orders = await mgmt(server, 'POST', '/resource-servers', { identifier: 'https://orders.example/', name: 'Orders' });
      await mgmt(server, 'POST', '/resource-servers', { identifier: 'https://other.example/', name: 'Other' });
      const system = `${server.issuer}api/v2/`;
      const q = (ids: string[], extra = '') => call(`/resource-servers?${ids.map((i) => `identifiers=${encodeURIComponent(i)}`).join('&')}${extra}`);
      const picked = (await q(['https://orders.example/', system, 'https://unknown.example/'])).json;
      assert.deepEqual(picked.map((r: { identifier: string }) => r.identifier), ['https://orders.example/', system]);
      assert.equal(picked[0].id, orders.id);
      const paged = (await q(['https://orders.example/', system], '&per_page=1&page=1&include_totals=true&include_fields=true')).json;
      assert.deepEqual([paged.total, paged.resource_servers.map((r: { identifier: string }) => r.identifier)], [2, [system]]);
    });

    it('GET /client-grants takes Auth0’s subject_type, allow_any_organization and default_for (Sesame’s grants are all client grants)', async () => {
      const all = (await call('/client-grants')).json;
      assert.ok(all.length > 0);
      assert.deepEqual((await call('/client-grants?subject_type=client&allow_any_organization=false')).json, all);
      for (const q of ['subject_type=user', 'allow_any_organization=true', 'default_for=third_party_clients']) assert.deepEqual((await call(`/client-grants?${q}`)).json, [], q);
      assert.equal((await call('/client-grants?subject_type=robot')).status, 400);
    });
  });
}
