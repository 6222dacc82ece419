import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

const ROOMY = { per_prefix: { max: 1000 }, per_ip_range: { max: 1000 } };

/**
 * Issue 14: Auth0's tenant-level phone provider and phone templates, configured through
 * /api/v2/branding/phone/*, send the codes of sms connections that have no provider (or text) of
 * their own: a start reaches the Twilio double with the otp_verify template's text and from.
 * The Auth Token is sealed at rest and never answered.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`tenant phone provider and templates [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);
    const call = (method: string, path: string, body?: unknown) => mgmtCall(t.server, method, path, body);
    const start = (connection: string, phone: string) => t.server.post('/passwordless/start', { ...t.server.defaultApp, connection, phone_number: phone, send: 'code' });
    const twilioProvider = () => ({
      name: 'twilio',
      configuration: { sid: t.twilio.accountSid, delivery_methods: ['text'], default_from: '+15005550006' },
      credentials: { auth_token: t.twilio.authToken },
    });
    let providerId: string;

    it('creates the provider (credentials write-only, sealed at rest); a second create is a conflict', async () => {
      assert.deepEqual(await call('GET', '/branding/phone/providers'), { status: 200, json: { providers: [] } });
      const created = await call('POST', '/branding/phone/providers', twilioProvider());
      assert.equal(created.status, 201, JSON.stringify(created.json));
      providerId = created.json.id;
      assert.match(providerId, /^pro_/);
      assert.deepEqual(
        { ...created.json, id: undefined, created_at: undefined, updated_at: undefined },
        { id: undefined, name: 'twilio', channel: 'phone', disabled: false, configuration: twilioProvider().configuration, created_at: undefined, updated_at: undefined },
      );
      const listed = await call('GET', '/branding/phone/providers');
      assert.deepEqual(listed.json.providers, [created.json]);
      assert.deepEqual((await call('GET', `/branding/phone/providers/${providerId}`)).json, created.json);
      const stored = await t.server.services.store.getSetting('phone_provider');
      assert.ok(!JSON.stringify(stored).includes(t.twilio.authToken), 'the Auth Token is stored sealed');
      assert.ok(!JSON.stringify(listed.json).includes(t.twilio.authToken));

      const again = await call('POST', '/branding/phone/providers', twilioProvider());
      assert.deepEqual([again.status, again.json.errorCode], [409, 'phone_provider_already_exists']);
    });

    it('refuses what Sesame cannot send with, in Auth0’s error shape', async () => {
      const custom = await call('POST', '/branding/phone/providers', { name: 'custom', configuration: { delivery_methods: ['text'] }, credentials: {} });
      assert.deepEqual([custom.status, custom.json.errorCode], [403, 'feature_not_enabled']);
      const cases: [unknown, string][] = [
        [{ configuration: { sid: t.twilio.accountSid, delivery_methods: ['voice'] } }, 'configuration.delivery_methods must include "text": Sesame sends one-time codes by text message'],
        [{ configuration: { delivery_methods: ['fax'] } }, "Payload validation error: 'No enum match for: \"fax\"' on property configuration.delivery_methods[0]."],
        [{ credentials: { auth_token: '' } }, "Payload validation error: 'String is too short (0 chars), minimum 1' on property credentials.auth_token."],
        [{ credentials: { api_key: 'x' } }, "Payload validation error: 'Additional properties not allowed: api_key' on property credentials."],
        [{}, "Payload validation error: 'Too few properties defined (0), minimum 1'."],
      ];
      for (const [body, message] of cases) {
        const res = await call('PATCH', `/branding/phone/providers/${providerId}`, body);
        assert.deepEqual(res, { status: 400, json: { statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' } }, JSON.stringify(body));
      }
      assert.equal((await call('GET', '/branding/phone/providers/pro_nope')).status, 404);
    });

    it('an sms connection without a provider sends through the tenant’s, with the otp_verify template’s text and from', async () => {
      await t.connection('sms-tenant', { fraud_guards: ROOMY });
      const phone = uniquePhone();
      const plain = await start('sms-tenant', phone);
      assert.equal(plain.status, 200, await plain.clone().text());
      const first = t.twilio.messages.at(-1)!;
      assert.deepEqual([first.to, first.from, first.auth.password], [phone, '+15005550006', t.twilio.authToken]);
      assert.match(first.body, /^Your verification code is: \d{6}/);

      const template = await call('POST', '/branding/phone/templates', {
        type: 'otp_verify', disabled: false, content: { from: '+15005550007', body: { text: '{{ code }} is your code for {{ application.name }}' } },
      });
      assert.equal(template.status, 201, JSON.stringify(template.json));
      assert.deepEqual(template.json.content, { syntax: 'liquid', from: '+15005550007', body: { text: '{{ code }} is your code for {{ application.name }}' } });
      const again = await call('POST', '/branding/phone/templates', { type: 'otp_verify', content: { body: { text: 'x' } } });
      assert.equal(again.status, 409);

      const res = await start('sms-tenant', uniquePhone());
      assert.equal(res.status, 200, await res.clone().text());
      const sent = t.twilio.messages.at(-1)!;
      assert.match(sent.body, /^\d{6} is your code for Default App$/);
      assert.equal(sent.from, '+15005550007');

      // A connection's own provider and template still win.
      await t.connection('sms-own', t.twilioOptions({ fraud_guards: ROOMY, template: 'Own: @@password@@' }));
      assert.equal((await start('sms-own', uniquePhone())).status, 200);
      assert.match(t.twilio.messages.at(-1)!.body, /^Own: \d{6}$/);

      // PATCH the template text; a broken Liquid text is refused when written.
      const patched = await mgmt(t.server, 'PATCH', `/branding/phone/templates/${template.json.id}`, { content: { body: { text: 'Code {{ code }}' } } });
      assert.equal(patched.content.from, '+15005550007');
      assert.equal((await start('sms-tenant', uniquePhone())).status, 200);
      assert.match(t.twilio.messages.at(-1)!.body, /^Code \d{6}$/);
      const broken = await call('PATCH', `/branding/phone/templates/${template.json.id}`, { content: { body: { text: '{% if %}' } } });
      assert.equal(broken.status, 400);
      assert.match(broken.json.message, /^content\.body\.text invalid Liquid/);
    });

    it('a disabled or deleted provider sends nothing: the start fails as a provider error', async () => {
      await mgmt(t.server, 'PATCH', `/branding/phone/providers/${providerId}`, { disabled: true });
      const before = t.twilio.messages.length;
      const res = await start('sms-tenant', uniquePhone());
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'sms_provider_error');
      assert.equal(t.twilio.messages.length, before);
      const del = await fetch(`${t.server.baseUrl}/api/v2/branding/phone/providers/${providerId}`, { method: 'DELETE', headers: { authorization: `Bearer ${await t.server.mgmtToken()}` } });
      assert.equal(del.status, 204);
      assert.deepEqual((await call('GET', '/branding/phone/providers')).json, { providers: [] });
    });
  });
}
