import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { THRESHOLD, block, exchange, fail, postFrom } from '../helpers/brute-force.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/**
 * `/api/v2/user-blocks` (Auth0's User Blocks; spec §7 "until unblocked via DELETE
 * /api/v2/user-blocks"): the (identifier, IP) pairs brute-force protection blocked, by identifier or
 * by user_id, in Auth0's shape `{blocked_for:[{identifier, ip, connection}]}`; DELETE lifts the
 * blocks and forgets the failure counts.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`/api/v2/user-blocks [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      // These tests block one email from several IPs (Auth0's pairs); the back-off across all IPs
      // (issue 10 §2) would step in after 20 failures: it is covered by identifier-limits.test.ts.
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0', SESAME_IDENTIFIER_FAILURE_LIMIT: '0' } });
    });
    after(() => server.close());

    const list = async (identifier: string) => mgmt(server, 'GET', `/user-blocks?identifier=${encodeURIComponent(identifier)}`);
    const pair = (identifier: string, ip: string, connection = 'email') => ({ identifier, ip, connection });

    async function tokenWith(scope: string[]): Promise<string> {
      const { client, secret } = await createClient(server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      const audience = `${server.issuer}api/v2/`;
      await mgmt(server, 'POST', '/client-grants', { client_id: client.client_id, audience, scope });
      const res = await server.post('/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret, audience });
      return ((await res.json()) as { access_token: string }).access_token;
    }
    const call = (method: string, path: string, token: string | null) =>
      fetch(`${server.baseUrl}/api/v2${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

    it('GET ?identifier= lists every blocked IP of the identifier, in any case; a pair below the threshold is not listed', async () => {
      const email = uniqueEmail('ub');
      await block(server, email);
      await block(server, email, '127.0.0.2');
      await fail(server, email, THRESHOLD - 1, '127.0.0.3');
      const expected = { blocked_for: [pair(email, '127.0.0.1'), pair(email, '127.0.0.2')] };
      assert.deepEqual(await list(email), expected);
      assert.deepEqual(await list(email.toUpperCase()), expected);
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks?identifier=${encodeURIComponent(email)}&consider_brute_force_enablement=true`), expected);
      assert.deepEqual(await list(uniqueEmail('nobody')), { blocked_for: [] });

      // Auth0's consider_brute_force_enablement: blocks of a connection whose protection is off are
      // not enforced, and with the flag not reported either.
      const conn = (await server.services.store.getConnectionByName('email'))!;
      const options = { ...conn.options };
      await mgmt(server, 'PATCH', `/connections/${conn.id}`, { options: { ...options, brute_force_protection: false } });
      try {
        assert.deepEqual(await mgmt(server, 'GET', `/user-blocks?identifier=${encodeURIComponent(email)}&consider_brute_force_enablement=true`), { blocked_for: [] });
        assert.deepEqual(await list(email), expected);
        assert.equal((await exchange(server, email, '000000')).status, 403);
      } finally {
        await mgmt(server, 'PATCH', `/connections/${conn.id}`, { options });
      }
      assert.equal((await exchange(server, email, '000000')).status, 429);
    });

    it('DELETE ?identifier= answers 204, lifts every block and forgets the counts; the sapi log says so', async () => {
      const email = uniqueEmail('ub-del');
      await block(server, email);
      await block(server, email, '127.0.0.2');
      const res = await call('DELETE', `/user-blocks?identifier=${encodeURIComponent(email.toUpperCase())}`, await server.mgmtToken());
      assert.equal(res.status, 204);
      assert.equal(await res.text(), '');
      assert.deepEqual(await list(email), { blocked_for: [] });
      // Verification is answered again, and counting started over: 9 failures do not block.
      await fail(server, email, THRESHOLD - 1);
      await fail(server, email, THRESHOLD - 1, '127.0.0.2');
      assert.deepEqual(await list(email), { blocked_for: [] });
      const sapi = (await server.services.store.logsAfter(null, 100_000)).filter((l) => l.type === 'sapi' && l.description === 'Unblock a user by identifier');
      assert.equal(sapi.length, 1);
      assert.deepEqual((sapi[0]!.details as Record<string, any>).request, { method: 'DELETE', path: '/api/v2/user-blocks' });
    });

    it('GET and DELETE /user-blocks/{id}: the blocks of the user’s identifier on its connection; 404 for an unknown user', async () => {
      const email = uniqueEmail('ub-user');
      const user = await mgmt(server, 'POST', '/users', { connection: 'email', email, email_verified: true });
      const id = encodeURIComponent(user.user_id);
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks/${id}`), { blocked_for: [] });
      await block(server, email);
      // Another user's block is not this user's.
      await block(server, uniqueEmail('ub-stranger'));
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks/${id}`), { blocked_for: [pair(email, '127.0.0.1')] });
      const del = await call('DELETE', `/user-blocks/${id}`, await server.mgmtToken());
      assert.equal(del.status, 204);
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks/${id}`), { blocked_for: [] });
      const token = await exchange(server, email, '000000');
      assert.equal(token.status, 403, 'answered as a wrong code again, not 429');

      const unknown = { statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' };
      assert.deepEqual(await mgmtCall(server, 'GET', '/user-blocks/email%7Cnope'), { status: 404, json: unknown });
      assert.deepEqual(await mgmtCall(server, 'DELETE', '/user-blocks/email%7Cnope'), { status: 404, json: unknown });
    });

    it('phone numbers: blocks are kept in E.164 and found from any way of writing the number', async () => {
      const conn = await mgmt(server, 'POST', '/connections', {
        name: 'sms', strategy: 'sms', options: { provider: 'sms_gateway', gateway_url: 'http://127.0.0.1:9/' }, enabled_clients: [server.defaultApp.client_id],
      });
      assert.equal(conn.strategy, 'sms');
      const guess = () => postFrom(server, '127.0.0.1', '/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...server.defaultApp, username: '+1 (202) 555-0143', otp: '000000', realm: 'sms' });
      for (let i = 0; i < THRESHOLD; i++) assert.equal((await guess()).status, 403);
      assert.equal((await guess()).status, 429);
      const expected = { blocked_for: [pair('+12025550143', '127.0.0.1', 'sms')] };
      assert.deepEqual(await list('+12025550143'), expected);
      assert.deepEqual(await list('+1 202-555-0143'), expected);
      // A `+` typed as is in the query string (curl) decodes to a space: still found.
      assert.deepEqual(await mgmt(server, 'GET', '/user-blocks?identifier=+12025550143'), expected);
      const res = await call('DELETE', `/user-blocks?identifier=${encodeURIComponent('+1 (202) 555 0143')}`, await server.mgmtToken());
      assert.equal(res.status, 204);
      assert.deepEqual(await list('+12025550143'), { blocked_for: [] });
    });

    it('validation and scopes: identifier required; read:users lists, update:users unblocks', async () => {
      assert.deepEqual(await mgmtCall(server, 'GET', '/user-blocks'), {
        status: 400,
        json: { statusCode: 400, error: 'Bad Request', message: "Query validation error: 'Missing required property: identifier'.", errorCode: 'invalid_query_string' },
      });
      assert.equal((await mgmtCall(server, 'DELETE', '/user-blocks')).status, 400);
      assert.equal((await call('GET', '/user-blocks?identifier=a%40b.c', null)).status, 401);
      const reader = await tokenWith(['read:users']);
      assert.equal((await call('GET', '/user-blocks?identifier=a%40b.c', reader)).status, 200);
      const denied = await call('DELETE', '/user-blocks?identifier=a%40b.c', reader);
      assert.equal(denied.status, 403);
      assert.equal(((await denied.json()) as { message: string }).message, 'Insufficient scope, expected any of: update:users');
      const writer = await tokenWith(['update:users']);
      assert.equal((await call('DELETE', '/user-blocks?identifier=a%40b.c', writer)).status, 204);
      assert.equal((await call('GET', '/user-blocks?identifier=a%40b.c', writer)).status, 403);
    });

    it('the OpenAPI document describes the four operations', async () => {
      const doc = (await (await fetch(`${server.baseUrl}/api/v2/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
      assert.deepEqual(Object.keys(doc.paths['/api/v2/user-blocks'] ?? {}).filter((m) => m === 'get' || m === 'delete').sort(), ['delete', 'get']);
      assert.deepEqual(Object.keys(doc.paths['/api/v2/user-blocks/{id}'] ?? {}).filter((m) => m === 'get' || m === 'delete').sort(), ['delete', 'get']);
      const ok = doc.paths['/api/v2/user-blocks']!.get.responses['200'];
      assert.ok(JSON.stringify(ok).includes('blocked_for'), JSON.stringify(ok));
    });
  });
}
