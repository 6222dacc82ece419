import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { BLOCKED_BODY, exchange, fail, postFrom } from '../helpers/brute-force.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

const BF = '/attack-protection/brute-force-protection';
const SIT = '/attack-protection/suspicious-ip-throttling';
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };

/**
 * Issue 14: Auth0's attack-protection settings are Sesame's tenant settings and are enforced:
 * brute-force protection's max_attempts, allowlist, mode and enabled drive the block of
 * (identifier, IP) pairs; suspicious-IP throttling's pre-login stage, allowlist and enabled drive the
 * per-IP start limit (SESAME_START_LIMIT_PER_HOUR is only the default). Invalid values are refused
 * with Auth0's 400s.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`attack protection settings [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '50' } });
    });
    after(async () => server?.close());
    beforeEach(async () => {
      // Each test starts from the defaults and from empty counters.
      await server.services.store.deleteSetting('attack_protection.brute_force_protection');
      await server.services.store.deleteSetting('attack_protection.suspicious_ip_throttling');
    });
    const call = (method: string, path: string, body?: unknown) => mgmtCall(server, method, path, body);
    const start = (ip: string) => postFrom(server, ip, '/passwordless/start', { ...server.defaultApp, connection: 'email', email: uniqueEmail('sit'), send: 'code' });

    it('GET shows Auth0’s shape with Sesame’s defaults (SESAME_START_LIMIT_PER_HOUR for pre-login)', async () => {
      assert.deepEqual((await call('GET', BF)).json, { enabled: true, shields: ['block', 'user_notification'], allowlist: [], mode: 'count_per_identifier_and_ip', max_attempts: 10 });
      assert.deepEqual((await call('GET', SIT)).json, {
        enabled: true, shields: ['block', 'admin_notification'], allowlist: [],
        stage: { 'pre-login': { max_attempts: 50, rate: 72_000 }, 'pre-user-registration': { max_attempts: 50, rate: 1_728_000 } },
      });
      // Re-applying what GET shows (auth0-deploy-cli does) is a no-op that succeeds.
      const view = (await call('GET', SIT)).json;
      assert.deepEqual(await call('PATCH', SIT, view), { status: 200, json: view });
    });

    it('refuses invalid values with Auth0’s 400s, and stores nothing', async () => {
      const cases: [string, unknown, string][] = [
        [BF, { max_attempts: 0 }, "Payload validation error: 'Value 0 is less than minimum 1' on property max_attempts."],
        [BF, { max_attempts: 101 }, "Payload validation error: 'Value 101 is greater than maximum 100' on property max_attempts."],
        [BF, { shields: ['captcha'] }, "Payload validation error: 'No enum match for: \"captcha\"' on property shields[0]."],
        [BF, { mode: 'per_ip' }, "Payload validation error: 'No enum match for: \"per_ip\"' on property mode."],
        [BF, { enabled: 'yes' }, "Payload validation error: 'Expected type boolean but found type string' on property enabled."],
        [BF, { allowlist: ['10.0.0.0/33'] }, "Payload validation error: 'Expected an IPv4 or IPv6 address or CIDR block but found \"10.0.0.0/33\"' on property allowlist[0]."],
        [BF, { block_ttl: 3 }, "Payload validation error: 'Additional properties not allowed: block_ttl'."],
        [SIT, { shields: ['user_notification'] }, "Payload validation error: 'No enum match for: \"user_notification\"' on property shields[0]."],
        [SIT, { stage: { 'pre-login': { rate: 1000 } } }, "Payload validation error: 'Value 1000 is less than minimum 34560' on property stage.pre-login.rate."],
        [SIT, { stage: { 'pre-user-registration': { max_attempts: 72_001 } } }, "Payload validation error: 'Value 72001 is greater than maximum 72000' on property stage.pre-user-registration.max_attempts."],
        [SIT, { stage: { 'pre-custom': {} } }, "Payload validation error: 'Additional properties not allowed: pre-custom' on property stage."],
        [SIT, { allowlist: ['not-an-ip'] }, "Payload validation error: 'Expected an IPv4 or IPv6 address or CIDR block but found \"not-an-ip\"' on property allowlist[0]."],
      ];
      for (const [path, body, message] of cases) {
        assert.deepEqual(await call('PATCH', path, body), { status: 400, json: { statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' } }, JSON.stringify(body));
      }
      assert.equal((await call('GET', BF)).json.max_attempts, 10);
    });

    it('PATCH max_attempts=3: the 3rd failure blocks the pair', async () => {
      assert.equal((await call('PATCH', BF, { max_attempts: 3 })).json.max_attempts, 3);
      const email = uniqueEmail('bf3');
      await fail(server, email, 3);
      const res = await exchange(server, email, '000000');
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
      const blocks = await mgmt(server, 'GET', `/user-blocks?identifier=${encodeURIComponent(email)}`);
      assert.deepEqual(blocks.blocked_for, [{ identifier: email, ip: '127.0.0.1', connection: 'email' }]);
    });

    it('an allowlisted IP (or CIDR block) is never blocked; others still are', async () => {
      await mgmt(server, 'PATCH', BF, { max_attempts: 2, allowlist: ['127.0.0.8/29', '2001:db8::1'] });
      const email = uniqueEmail('bf-allow');
      for (let i = 0; i < 6; i++) {
        const res = await exchange(server, email, '000000', '127.0.0.9');
        assert.deepEqual({ status: res.status, body: res.json() }, { status: 403, body: WRONG }, `guess ${i + 1} from the allowlist`);
      }
      await fail(server, email, 2, '127.0.0.20');
      assert.equal((await exchange(server, email, '000000', '127.0.0.20')).status, 429);
    });

    it('enabled: false or no block shield blocks nothing; mode count_per_identifier counts every IP together', async () => {
      await mgmt(server, 'PATCH', BF, { max_attempts: 2, enabled: false });
      const email = uniqueEmail('bf-off');
      await fail(server, email, 4);
      await mgmt(server, 'PATCH', BF, { enabled: true, shields: ['user_notification'] });
      await fail(server, email, 4);

      await mgmt(server, 'PATCH', BF, { shields: ['block'], mode: 'count_per_identifier' });
      const wide = uniqueEmail('bf-wide');
      await fail(server, wide, 1, '127.0.0.30');
      await fail(server, wide, 1, '127.0.0.31');
      const res = await exchange(server, wide, '000000', '127.0.0.32');
      assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
      const blocks = await mgmt(server, 'GET', `/user-blocks?identifier=${encodeURIComponent(wide)}`);
      assert.deepEqual(blocks.blocked_for, [{ identifier: wide, connection: 'email' }]);
    });

    it('pre-login max_attempts sets the per-IP start limit; the allowlist and enabled: false lift it', async () => {
      await mgmt(server, 'PATCH', SIT, { stage: { 'pre-login': { max_attempts: 2, rate: 1_800_000 } } });
      for (let i = 0; i < 2; i++) {
        const res = await start('127.0.0.40');
        assert.equal(res.status, 200, res.text);
      }
      const refused = await start('127.0.0.40');
      assert.equal(refused.status, 429, refused.text);
      assert.equal(refused.json().error, 'too_many_requests');

      await mgmt(server, 'PATCH', SIT, { allowlist: ['127.0.0.40'] });
      assert.equal((await start('127.0.0.40')).status, 200);
      for (let i = 0; i < 2; i++) assert.equal((await start('127.0.0.41')).status, 200);
      assert.equal((await start('127.0.0.41')).status, 429);

      await mgmt(server, 'PATCH', SIT, { enabled: false });
      for (let i = 0; i < 3; i++) assert.equal((await start('127.0.0.41')).status, 200, 'throttling disabled: no 429');
    });
  });
}
