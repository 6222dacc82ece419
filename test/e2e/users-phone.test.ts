import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { THRESHOLD, postFrom } from '../helpers/brute-force.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/**
 * Issue 4 §4, spec §4 "Users" (PL-LIM): passwordless users with a phone number through the
 * Management API, `{connection:"sms", phone_number, phone_verified}`, kept in E.164 (as
 * /passwordless/start and the OTP grant normalise numbers), unique per connection, searchable with
 * `q=phone_number:…`.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API users with phone numbers [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0' } });
      for (const name of ['sms', 'sms-two']) {
        await mgmt(server, 'POST', '/connections', {
          name, strategy: 'sms', options: { provider: 'sms_gateway', gateway_url: 'http://127.0.0.1:9/' }, enabled_clients: [server.defaultApp.client_id],
        });
      }
    });
    after(() => server.close());

    const invalid = (message: string) => ({ status: 400, json: { statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' } });
    const query = (q: string) => mgmt(server, 'GET', `/users?q=${encodeURIComponent(q)}&search_engine=v3`);

    it('creates an sms user: E.164 number, sms|<24 hex>, an sms identity; GET and search find it', async () => {
      const res = await mgmtCall(server, 'POST', '/users', { connection: 'sms', phone_number: '+1 (202) 555-0143', phone_verified: true, user_metadata: { plan: 'a' } });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      const user = res.json;
      assert.match(user.user_id, /^sms\|[0-9a-f]{24}$/);
      assert.deepEqual(
        { phone_number: user.phone_number, phone_verified: user.phone_verified, email: user.email, email_verified: user.email_verified, logins_count: user.logins_count, user_metadata: user.user_metadata },
        { phone_number: '+12025550143', phone_verified: true, email: undefined, email_verified: undefined, logins_count: 0, user_metadata: { plan: 'a' } },
      );
      assert.deepEqual(user.identities, [{ connection: 'sms', user_id: user.user_id.slice('sms|'.length), provider: 'sms', isSocial: false }]);
      assert.equal(user.connection, undefined, 'the connection is shown in identities only, as Auth0 does');

      assert.deepEqual(await mgmt(server, 'GET', `/users/${encodeURIComponent(user.user_id)}`), user);
      // What the OTP grant and /passwordless/start look up (src/core/users.ts) finds the same user.
      assert.equal((await server.services.store.findUserByPhone('sms', '+12025550143'))?.user_id, user.user_id);

      for (const q of ['phone_number:"+12025550143"', 'phone_number:+12025550143', 'phone_number:"+1 202 555 0143"', 'phone_number:+1202555*']) {
        assert.deepEqual((await query(q)).map((u: { user_id: string }) => u.user_id), [user.user_id], q);
      }
      assert.deepEqual(await query('phone_number:"+12025550199"'), []);
      const other = await mgmtCall(server, 'GET', `/users?q=${encodeURIComponent('name:x')}`);
      assert.equal(other.status, 400);
      assert.equal(other.json.errorCode, 'invalid_query_string');

      // phone_verified and the usual fields can be changed later.
      const patched = await mgmt(server, 'PATCH', `/users/${encodeURIComponent(user.user_id)}`, { phone_verified: false, blocked: true });
      assert.deepEqual([patched.phone_verified, patched.blocked, patched.phone_number], [false, true, '+12025550143']);
    });

    it('the same number twice on a connection is 409 as Auth0 (any way of writing it); on another connection it is a new user', async () => {
      const first = await mgmt(server, 'POST', '/users', { connection: 'sms', phone_number: '+33 6 12 34 56 78' });
      assert.equal(first.phone_number, '+33612345678');
      assert.equal(first.phone_verified, false);
      for (const phone_number of ['+33612345678', '+33 (6) 12-34-56-78']) {
        assert.deepEqual(await mgmtCall(server, 'POST', '/users', { connection: 'sms', phone_number }), {
          status: 409, json: { statusCode: 409, error: 'Conflict', message: 'The user already exists.', errorCode: 'auth0_idp_error' },
        });
      }
      const elsewhere = await mgmt(server, 'POST', '/users', { connection: 'sms-two', phone_number: '+33612345678' });
      assert.notEqual(elsewhere.user_id, first.user_id);
      assert.deepEqual(elsewhere.identities[0].connection, 'sms-two');
    });

    it('refuses what is not a phone user of an sms connection, or not an email user of an email connection (400 invalid_body)', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ connection: 'sms', phone_number: 'not a number' }, 'phone_number must be a phone number in international format, such as +14155550100 (String does not match pattern: ^\\+[0-9]{1,15}$)'],
        [{ connection: 'sms', phone_number: '+1 555' }, 'phone_number must be a phone number in international format, such as +14155550100 (Invalid phone number)'],
        [{ connection: 'sms', phone_number: '2025550143' }, 'phone_number must be a phone number in international format, such as +14155550100 (String does not match pattern: ^\\+[0-9]{1,15}$)'],
        [{ connection: 'sms' }, "Payload validation error: 'Missing required property: phone_number'."],
        [{ connection: 'sms', phone_number: '+12025550100', email: uniqueEmail('sms') }, 'email and email_verified cannot be set on an sms connection (sms)'],
        [{ connection: 'email', email: uniqueEmail('mail'), phone_number: '+12025550100' }, 'phone_number and phone_verified cannot be set on an email connection (email)'],
        [{ connection: 'email' }, "Payload validation error: 'Missing required property: email'."],
        [{ connection: 'sms', phone_number: 12025550100 }, "Payload validation error: 'Expected type string but found type integer' on property phone_number."],
        [{ connection: 'sms', phone_number: '+12025550100', phone_verified: 'yes' }, "Payload validation error: 'Expected type boolean but found type string' on property phone_verified."],
      ];
      for (const [body, message] of cases) assert.deepEqual(await mgmtCall(server, 'POST', '/users', body), invalid(message), JSON.stringify(body));
    });

    it('a phone user’s brute-force blocks are listed and lifted by user_id', async () => {
      const user = await mgmt(server, 'POST', '/users', { connection: 'sms', phone_number: '+44 20 7946 0958', phone_verified: true });
      const id = encodeURIComponent(user.user_id);
      const guess = () => postFrom(server, '127.0.0.1', '/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...server.defaultApp, username: '+442079460958', otp: '000000', realm: 'sms' });
      for (let i = 0; i < THRESHOLD; i++) assert.equal((await guess()).status, 403);
      assert.equal((await guess()).status, 429);
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks/${id}`), { blocked_for: [{ identifier: '+442079460958', ip: '127.0.0.1', connection: 'sms' }] });
      const del = await fetch(`${server.baseUrl}/api/v2/user-blocks/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
      assert.equal(del.status, 204);
      assert.deepEqual(await mgmt(server, 'GET', `/user-blocks/${id}`), { blocked_for: [] });
      assert.equal((await guess()).status, 403);
    });
  });
}
