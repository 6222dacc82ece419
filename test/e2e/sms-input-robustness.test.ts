import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { useSmsTenant } from '../helpers/sms-tenant.ts';

/** Values a phone-number field meets in the wild, and some it should never meet. */
const WEIRD: unknown[] = ['', ' ', '+', '++1', '+1'.repeat(500), '\u0000', '+١٢٣٤٥٦٧٨٩٠', '+1 (415) 555-2671'.repeat(100), '+44\n7911123456', ['x'], { a: 1 }, null, true, -1];

/**
 * "Bad input gets a clear 4xx, never a 500" for everything issues 4 and 5 added that reads a phone
 * number or an SMS setting: start, exchange, verify, /co/authenticate, verify_redirect, users,
 * user-blocks, connection options, the tenant's SMS budget.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SMS endpoints under malformed input [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);

    it('answers every malformed phone number or SMS setting with a 4xx', async () => {
      const conn = await t.connection('sms', t.twilioOptions());
      const app = t.server.defaultApp;
      const token = await t.server.mgmtToken();
      const api = (method: string, path: string, body?: unknown) => fetch(`${t.server.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const calls: [string, () => Promise<Response>][] = [];
      for (const w of WEIRD) {
        const tag = JSON.stringify(w)?.slice(0, 24);
        calls.push(
          [`start ${tag}`, () => t.server.post('/passwordless/start', { ...app, connection: 'sms', phone_number: w })],
          [`token ${tag}`, () => t.server.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...app, realm: 'sms', username: w, otp: '123456' })],
          [`verify ${tag}`, () => t.server.post('/passwordless/verify', { client_id: app.client_id, connection: 'sms', phone_number: w, verification_code: '123456' })],
          [`co ${tag}`, () => t.server.post('/co/authenticate', { client_id: app.client_id, credential_type: PASSWORDLESS_OTP_GRANT, realm: 'sms', username: w, otp: '1' }, { origin: t.server.baseUrl })],
          [`verify_redirect ${tag}`, () => fetch(`${t.server.baseUrl}/passwordless/verify_redirect`, {
            method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.server.baseUrl },
            body: new URLSearchParams({ client_id: app.client_id, connection: 'sms', phone_number: String(w), verification_code: '1' }),
          })],
          [`users ${tag}`, () => api('POST', '/users', { connection: 'sms', phone_number: w })],
          [`user-blocks ${tag}`, () => api('GET', `/user-blocks?identifier=${encodeURIComponent(String(w))}`)],
          [`user-blocks delete ${tag}`, () => api('DELETE', `/user-blocks?identifier=${encodeURIComponent(String(w))}`)],
          [`guards ${tag}`, () => api('PATCH', `/connections/${conn.id}`, { options: t.twilioOptions({ fraud_guards: { per_number: { max: w }, allowed_countries: w } }) })],
          [`gateway ${tag}`, () => api('PATCH', `/connections/${conn.id}`, { options: { provider: 'sms_gateway', gateway_url: w, template: w, syntax: w, forward_req_info: w, gateway_authentication: w } })],
          [`budget ${tag}`, () => api('PATCH', '/tenants/settings', { sms_daily_budget: w })],
        );
      }
      const failures: string[] = [];
      for (const [name, call] of calls) {
        const res = await call();
        if (res.status >= 500) failures.push(`${name}: ${res.status} ${(await res.text()).slice(0, 120)}`);
      }
      assert.deepEqual(failures, []);
    });
  });
}
