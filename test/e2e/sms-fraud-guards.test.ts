import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { createClient } from '../helpers/fixtures.ts';
import { mgmt } from '../helpers/management.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

type Json = Record<string, any>;
const HOUR = 3_600_000;
/** Guards so roomy that only the one a test lowers can trip. */
const ROOMY = { per_number: { max: 1000 }, per_prefix: { max: 1000 }, per_ip_range: { max: 1000 }, per_client: { max: 1000 } };
const masked = (e164: string) => `+${'*'.repeat(e164.length - 5)}${e164.slice(-4)}`;

/**
 * Issue 5 §4: SMS toll-fraud guards, on by default. Every guard trips (429 + Retry-After + a
 * `limit_phone` log) and resets when its sliding window moves (the server's clock is moved, not
 * waited for); refused sends cost nothing; the tenant's daily budget is a breaker that closes as
 * soon as it is raised.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SMS toll-fraud guards [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);
    const start = (connection: string, phone_number: string, auth: Json = t.server.defaultApp, headers: Record<string, string> = {}) =>
      t.server.post('/passwordless/start', { ...auth, connection, phone_number }, headers);
    async function expect429(res: Response, guard: string, phone: string) {
      const body = (await res.json()) as Json;
      assert.equal(res.status, 429, JSON.stringify(body));
      assert.equal(body.error, 'too_many_requests');
      assert.equal(typeof body.error_description, 'string');
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1, `Retry-After: ${res.headers.get('retry-after')}`);
      const [log] = await t.logs('limit_phone', (l) => l.details.guard === guard && l.details.phone_number === masked(phone));
      assert.ok(log, `a limit_phone log for ${guard}`);
      assert.equal(log.details.delivery_method, 'sms');
      assert.equal(log.client_id, t.server.defaultApp.client_id);
      assert.ok(!JSON.stringify(log).includes(phone), 'the number is masked in the log');
      assert.ok(Date.parse(log.details.reset_time) > Date.parse(log.details.trigger_time));
      return retryAfter;
    }

    it('per_number: the sixth code to one number within an hour is refused until the first leaves the window', async () => {
      await t.connection('g-number', t.gatewayOptions({ fraud_guards: { ...ROOMY, per_number: { max: 5, window_seconds: 3600 } } }));
      const phone = uniquePhone();
      for (let i = 0; i < 5; i++) assert.equal((await start('g-number', phone)).status, 200);
      const retryAfter = await expect429(await start('g-number', phone), 'per_number', phone);
      assert.ok(retryAfter > 3500 && retryAfter <= 3600, String(retryAfter));
      assert.equal((await start('g-number', uniquePhone())).status, 200, 'another number is not affected');
      t.advance(HOUR + 1000);
      assert.equal((await start('g-number', phone)).status, 200, 'the window moved');
    });

    it('per_prefix: numbers sharing their first digits are limited together; other ranges are not', async () => {
      await t.connection('g-prefix', t.gatewayOptions({ fraud_guards: { ...ROOMY, per_prefix: { max: 3, window_seconds: 600, prefix_length: 8 } } }));
      const base = uniquePhone().slice(0, 9); // + and 8 digits
      for (let i = 0; i < 3; i++) assert.equal((await start('g-prefix', `${base}${100 + i}`)).status, 200);
      await expect429(await start('g-prefix', `${base}200`), 'per_prefix', `${base}200`);
      assert.equal((await start('g-prefix', uniquePhone())).status, 200);
      t.advance(601_000);
      assert.equal((await start('g-prefix', `${base}201`)).status, 200);
    });

    it('per_ip_range: one IPv4 /24 is limited together (the end user IP comes from a trusted backend)', async () => {
      const { client, secret } = await createClient(t.server, { app_type: 'regular_web', is_token_endpoint_ip_header_trusted: true }, { enableOn: null });
      const conn = await t.connection('g-ip', t.gatewayOptions({ fraud_guards: { ...ROOMY, per_ip_range: { max: 2, window_seconds: 600 } } }), [client.client_id]);
      assert.ok(conn.id);
      const backendApp = { client_id: client.client_id, client_secret: secret };
      const from = (ip: string) => ({ 'auth0-forwarded-for': ip });
      assert.equal((await start('g-ip', uniquePhone(), backendApp, from('198.51.100.7'))).status, 200);
      assert.equal((await start('g-ip', uniquePhone(), backendApp, from('198.51.100.250'))).status, 200);
      const phone = uniquePhone();
      const res = await start('g-ip', phone, backendApp, from('198.51.100.9'));
      assert.equal(res.status, 429);
      const [log] = await t.logs('limit_phone', (l) => l.details.guard === 'per_ip_range' && l.details.phone_number === masked(phone));
      assert.equal(log?.ip, '198.51.100.9');
      assert.equal((await start('g-ip', uniquePhone(), backendApp, from('198.51.101.9'))).status, 200, 'the next /24 is another range');
      t.advance(601_000);
      assert.equal((await start('g-ip', uniquePhone(), backendApp, from('198.51.100.9'))).status, 200);
    });

    it('per_client: one application is limited; another one is not', async () => {
      const { client, secret } = await createClient(t.server, { app_type: 'regular_web' }, { enableOn: null });
      await t.connection('g-client', t.gatewayOptions({ fraud_guards: { ...ROOMY, per_client: { max: 2, window_seconds: 600 } } }), [client.client_id]);
      assert.equal((await start('g-client', uniquePhone())).status, 200);
      assert.equal((await start('g-client', uniquePhone())).status, 200);
      const phone = uniquePhone();
      await expect429(await start('g-client', phone), 'per_client', phone);
      assert.equal((await start('g-client', uniquePhone(), { client_id: client.client_id, client_secret: secret })).status, 200);
      t.advance(601_000);
      assert.equal((await start('g-client', uniquePhone())).status, 200);
    });

    it('allowed_countries: numbers of other regions are refused (and logged); lifting the list lets them through', async () => {
      const conn = await t.connection('g-country', t.gatewayOptions({ fraud_guards: { ...ROOMY, allowed_countries: ['FR', 'BE'] } }));
      assert.equal((await start('g-country', '+33 6 12 34 56 79')).status, 200);
      const us = '+14155552671';
      const res = await start('g-country', us);
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'bad.phone_number', error_description: 'Phone numbers from US are not allowed for this connection' });
      const [log] = await t.logs('limit_phone', (l) => l.details.guard === 'allowed_countries' && l.details.phone_number === masked(us));
      assert.ok(log);
      await mgmt(t.server, 'PATCH', `/connections/${conn.id}`, { options: t.gatewayOptions({ fraud_guards: { ...ROOMY, allowed_countries: null } }) });
      assert.equal((await start('g-country', us)).status, 200);
    });

    it('the tenant budget is a breaker: it opens at the budget and closes as soon as it is raised', async () => {
      await t.connection('g-budget', t.gatewayOptions({ fraud_guards: ROOMY }));
      const tenant = await mgmt(t.server, 'GET', '/tenants/settings');
      // Whatever the other tests sent in the last 24 h counts: the budget is tenant-wide.
      const sentToday = (await t.logs('cs')).filter((l) => Date.parse(l.date) > Date.now() - 86_400_000).length;
      assert.equal(tenant.sms_daily_budget, 10000);
      await mgmt(t.server, 'PATCH', '/tenants/settings', { sms_daily_budget: sentToday + 2 });
      try {
        assert.equal((await start('g-budget', uniquePhone())).status, 200);
        assert.equal((await start('g-budget', uniquePhone())).status, 200);
        const phone = uniquePhone();
        await expect429(await start('g-budget', phone), 'sms_daily_budget', phone);
        assert.equal((await start('g-budget', uniquePhone())).status, 429, 'refused sends did not count, but the breaker stays open');
        await mgmt(t.server, 'PATCH', '/tenants/settings', { sms_daily_budget: sentToday + 3 });
        assert.equal((await start('g-budget', uniquePhone())).status, 200, 'raised: closed at once');
        assert.equal((await start('g-budget', uniquePhone())).status, 429);
        const invalid = await fetch(`${t.server.baseUrl}/api/v2/tenants/settings`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${await t.server.mgmtToken()}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sms_daily_budget: -1 }),
        });
        assert.equal(invalid.status, 400);
      } finally {
        await mgmt(t.server, 'PATCH', '/tenants/settings', { sms_daily_budget: 10000 });
      }
    });

    it('counts atomically: 12 concurrent sends to one number with room for 5 give exactly 5 codes', async () => {
      await t.connection('g-race', t.gatewayOptions({ fraud_guards: { ...ROOMY, per_number: { max: 5, window_seconds: 3600 } } }));
      const phone = uniquePhone();
      const results = await Promise.all(Array.from({ length: 12 }, () => start('g-race', phone)));
      assert.deepEqual(results.map((r) => r.status).sort(), [...Array(5).fill(200), ...Array(7).fill(429)]);
      assert.equal(t.gateway.messages.filter((m) => m.recipient === phone).length, 5);
    });

    it('by default, 40 sends within a minute from one client and IP to numbers sharing an 8-digit prefix get 429s', async () => {
      await t.connection('g-default', t.gatewayOptions());
      const base = uniquePhone().slice(0, 9);
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await start('g-default', `${base}${String(i).padStart(3, '0')}`)).status);
      assert.equal(statuses.filter((s) => s === 200).length, 20, 'per_prefix allows 20 per hour');
      assert.ok(statuses.slice(20).every((s) => s === 429));
      const logs = await t.logs('limit_phone', (l) => l.connection === 'g-default');
      assert.equal(logs.length, 20);
      assert.ok(logs.every((l) => l.details.guard === 'per_prefix'));
    });
  });
}
