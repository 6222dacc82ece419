import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { GATEWAY_AUTH, uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

type Json = Record<string, any>;
const ROOMY = { per_prefix: { max: 1000 }, per_ip_range: { max: 1000 } };

/**
 * Issue 11 "Secrets": an SMS connection's provider secrets (`twilio_token`,
 * `gateway_authentication.secret`) are write-only. No Management API answer carries them, plain or
 * sealed; a PATCH that leaves them out (as every echo of a GET does) keeps them, so texts still go out.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SMS provider secrets are write-only [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);
    const leaks = (body: unknown) => {
      const text = JSON.stringify(body);
      return [t.twilio.authToken, GATEWAY_AUTH.secret, 'twilio_token', 'secret_enc', '"secret"'].filter((s) => text.includes(s));
    };
    const send = async (connection: string) => {
      const res = await t.server.post('/passwordless/start', { ...t.server.defaultApp, connection, phone_number: uniquePhone() });
      return { status: res.status, body: (await res.json()) as Json };
    };

    it('POST, GET and list never return them; a PATCH that echoes a GET keeps them and texts still go out', async () => {
      const twilio = await mgmtCall(t.server, 'POST', '/connections', {
        name: 'sms-w', strategy: 'sms', options: t.twilioOptions({ fraud_guards: ROOMY }), enabled_clients: [t.server.defaultApp.client_id],
      });
      assert.equal(twilio.status, 201, JSON.stringify(twilio.json));
      const gateway = await mgmt(t.server, 'POST', '/connections', {
        name: 'sms-gw-w', strategy: 'sms', options: t.gatewayOptions({ fraud_guards: ROOMY }), enabled_clients: [t.server.defaultApp.client_id],
      });
      assert.deepEqual(leaks(twilio.json), []);
      assert.deepEqual(leaks(gateway), []);
      assert.deepEqual(gateway.options.gateway_authentication, { method: 'bearer', subject: GATEWAY_AUTH.subject, audience: GATEWAY_AUTH.audience, secret_base64_encoded: false });
      assert.equal(twilio.json.options.twilio_sid, t.twilio.accountSid, 'the rest of the options is shown');
      for (const path of [`/connections/${twilio.json.id}`, `/connections/${gateway.id}`, '/connections', '/connections?strategy=sms']) {
        assert.deepEqual(leaks(await mgmt(t.server, 'GET', path)), [], path);
      }

      // Echo each GET with a changed template: the PATCH answer leaks nothing and the secret stays.
      for (const c of [twilio.json, gateway]) {
        const got = await mgmt(t.server, 'GET', `/connections/${c.id}`);
        const patched = await mgmt(t.server, 'PATCH', `/connections/${c.id}`, { options: { ...got.options, template: 'Your code: @@password@@' } });
        assert.deepEqual(leaks(patched), []);
        assert.equal(patched.options.template, 'Your code: @@password@@');
      }
      const twilioSent = t.twilio.messages.length;
      const gatewaySent = t.gateway.messages.length;
      const a = await send('sms-w');
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(t.twilio.messages.length, twilioSent + 1, 'Twilio accepted the kept token');
      assert.match(t.twilio.messages.at(-1)!.body, /^Your code: \d{6}/);
      const b = await send('sms-gw-w');
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(t.gateway.messages.length, gatewaySent + 1, 'the gateway verified a JWT signed with the kept secret');
    });

    it('a PATCH with a new token replaces it; dropping gateway_authentication drops its secret', async () => {
      const [c] = (await mgmt(t.server, 'GET', '/connections?name=sms-w')).map((x: Json) => x);
      const got = await mgmt(t.server, 'GET', `/connections/${c.id}`);
      await mgmt(t.server, 'PATCH', `/connections/${c.id}`, { options: { ...got.options, twilio_token: 'a-wrong-token' } });
      const wrong = await send('sms-w');
      assert.notEqual(wrong.status, 200, 'Twilio refuses the replaced token');
      await mgmt(t.server, 'PATCH', `/connections/${c.id}`, { options: { ...got.options, twilio_token: t.twilio.authToken } });
      assert.equal((await send('sms-w')).status, 200);

      const [gw] = await mgmt(t.server, 'GET', '/connections?name=sms-gw-w');
      const { gateway_authentication: _auth, ...noAuth } = gw.options;
      await mgmt(t.server, 'PATCH', `/connections/${gw.id}`, { options: noAuth });
      const stored = await t.server.services.store.getConnection(gw.id);
      assert.equal(JSON.stringify(stored!.options).includes('secret_enc'), false);
    });
  });
}
