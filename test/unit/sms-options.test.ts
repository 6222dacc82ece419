import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSmsOptions } from '../../src/sms/options.ts';

const twilio = { twilio_sid: 'AC0123456789abcdef0123456789abcdef', twilio_token: 'token', from: '+15005550006', messaging_service_sid: null };
const gateway = {
  provider: 'sms_gateway', gateway_url: 'http://127.0.0.1:8080/sms', forward_req_info: 'true',
  gateway_authentication: { method: 'bearer', subject: 'urn:Auth0', audience: 'urn:gw', secret: 'c2VjcmV0', secret_base64_encoded: true },
};

describe('validateSmsOptions', () => {
  it('accepts Auth0\'s shapes, with unknown keys kept', () => {
    for (const o of [
      twilio,
      { ...twilio, provider: 'twilio', from: null, messaging_service_sid: 'MG0123456789abcdef0123456789abcdef' },
      { ...twilio, syntax: 'liquid', template: '{{ code }}', totp: { time_step: 300, length: 6 }, custom: 1 },
      gateway,
      { ...gateway, forward_req_info: false, gateway_authentication: null, from: 'Acme', twilio_sid: '…' },
      { provider: 'sms_gateway', gateway_url: 'https://10.0.0.5/send' },
      // Secrets left out (an export without --include-secrets): accepted, set later.
      { ...twilio, twilio_token: undefined },
      { ...gateway, gateway_authentication: { ...gateway.gateway_authentication, secret: undefined } },
    ]) {
      assert.equal(validateSmsOptions(o), undefined, JSON.stringify(o));
    }
  });

  it('answers one clear message per problem', () => {
    const cases: [unknown, string][] = [
      [null, 'options must be an object'],
      [{ ...twilio, provider: 'vonage' }, 'options.provider must be one of twilio, sms_gateway'],
      [{ ...twilio, twilio_sid: undefined }, 'options.twilio_sid is required with provider twilio: the Account SID (letters and digits)'],
      [{ ...twilio, twilio_sid: 'AC1/../x' }, 'options.twilio_sid is required with provider twilio: the Account SID (letters and digits)'],
      [{ ...twilio, twilio_token: '' }, 'options.twilio_token must be a non-empty string of at most 1024 characters (the Auth Token)'],
      [{ ...twilio, from: null }, 'options.from or options.messaging_service_sid is required with provider twilio'],
      [{ ...twilio, from: 5 }, 'options.from must be a non-empty string of at most 1024 characters or null'],
      [{ ...twilio, messaging_service_sid: 7 }, 'options.messaging_service_sid must be a Messaging Service SID (letters and digits) or null'],
      [{ ...twilio, syntax: 'html' }, 'options.syntax: must be one of md_with_macros, liquid'],
      [{ ...twilio, syntax: 'liquid', template: '{{ code' }, 'options.template: invalid Liquid: '],
      [{ ...twilio, template: 'x'.repeat(1601) }, 'options.template: must be at most 1600 characters (got 1601)'],
      [{ ...gateway, gateway_url: undefined }, 'options.gateway_url is required with provider sms_gateway: an http(s) URL without credentials'],
      [{ ...gateway, gateway_url: 'ftp://gw/sms' }, 'options.gateway_url is required with provider sms_gateway: an http(s) URL without credentials'],
      [{ ...gateway, gateway_url: 'https://u:p@gw/sms' }, 'options.gateway_url is required with provider sms_gateway: an http(s) URL without credentials'],
      [{ ...gateway, forward_req_info: 'yes' }, 'options.forward_req_info must be true, false, "true" or "false"'],
      [{ ...gateway, gateway_authentication: 'bearer' }, 'options.gateway_authentication must be an object or null'],
      [{ ...gateway, gateway_authentication: { ...gateway.gateway_authentication, method: 'basic' } }, 'options.gateway_authentication.method must be "bearer"'],
      [{ ...gateway, gateway_authentication: { ...gateway.gateway_authentication, audience: undefined } }, 'options.gateway_authentication.audience must be a non-empty string of at most 1024 characters'],
      [{ ...gateway, gateway_authentication: { ...gateway.gateway_authentication, secret_base64_encoded: 'true' } }, 'options.gateway_authentication.secret_base64_encoded must be a boolean'],
      [{ ...gateway, gateway_authentication: { ...gateway.gateway_authentication, secret: 'not base64!' } }, 'options.gateway_authentication.secret is not valid base64 (secret_base64_encoded is true)'],
    ];
    for (const [o, message] of cases) {
      const got = validateSmsOptions(o);
      assert.ok(got !== undefined && got.startsWith(message), `${JSON.stringify(o)?.slice(0, 100)} → ${got}`);
      if (!message.endsWith(': ')) assert.equal(got, message);
    }
  });
});
