import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keyring } from '../../src/core/crypto.ts';
import { createTemplateEngine } from '../../src/mail/templates.ts';
import { openSmsSecrets, sealSmsSecrets } from '../../src/sms/secrets.ts';
import { SmsTemplateError, defaultSmsBody, renderSms, validateSmsTemplate } from '../../src/sms/template.ts';
import { codeFromSms } from '../helpers/sms-servers.ts';

const engine = createTemplateEngine();
const vars = { code: '482913', phone_number: '+14155550123', application: { name: 'Acme & Co' }, request_language: 'fr-CA' };
const issuer = 'https://auth.example.com/';

describe('SMS templates', () => {
  it('md_with_macros replaces @@password@@ (and @@code@@) and nothing else', async () => {
    const body = await renderSms(engine, { syntax: 'md_with_macros', template: 'Code: @@password@@ / @@code@@ / {{ code }} $& @@other@@' }, vars, issuer);
    assert.equal(body, 'Code: 482913 / 482913 / {{ code }} $& @@other@@');
    // syntax absent means md_with_macros.
    assert.equal(await renderSms(engine, { template: 'Your code: @@password@@' }, vars, issuer), 'Your code: 482913');
  });

  it('liquid renders code, password, phone_number, application.name and request_language, unescaped', async () => {
    const template = '{{ application.name }}: {{ code }}={{ password }} for {{ phone_number }} ({{ request_language }}){% if request_language contains "fr" %} bonjour{% endif %}';
    assert.equal(await renderSms(engine, { syntax: 'liquid', template }, vars, issuer), 'Acme & Co: 482913=482913 for +14155550123 (fr-CA) bonjour');
    assert.equal(await renderSms(engine, { syntax: 'liquid', template: '[{{ request_language }}]' }, { ...vars, request_language: null }, issuer), '[]');
    // In Liquid, @@password@@ is plain text.
    assert.equal(await renderSms(engine, { syntax: 'liquid', template: '@@password@@' }, vars, issuer), '@@password@@');
  });

  it('the default template ends with the origin-bound line @<issuer host> #<code> and fits one segment', async () => {
    for (const options of [{}, { syntax: 'liquid' }, { template: null }, { template: '' }]) {
      const body = await renderSms(engine, options, vars, issuer);
      assert.equal(body, 'Your verification code is: 482913\n\n@auth.example.com #482913');
      assert.equal(body.split('\n').at(-1), '@auth.example.com #482913');
      assert.ok(body.length <= 160);
      assert.equal(codeFromSms(body), '482913');
    }
    // The hostname only: the WebOTP format has no port or path.
    assert.equal(defaultSmsBody('123456', 'http://localhost:3000/tenant/').split('\n').at(-1), '@localhost #123456');
  });

  it('refuses invalid Liquid, templates over 1,600 characters, wrong types and unknown syntaxes', () => {
    const refused = (options: Record<string, unknown>, message: RegExp) =>
      assert.throws(() => validateSmsTemplate(options, engine), (err: unknown) => err instanceof SmsTemplateError && message.test(err.message), JSON.stringify(options).slice(0, 80));
    refused({ syntax: 'liquid', template: 'Code {{ code ' }, /^template: invalid Liquid: /);
    refused({ syntax: 'liquid', template: '{% if code %}no end' }, /^template: invalid Liquid: .*not closed/);
    refused({ template: 'x'.repeat(1601) }, /^template: must be at most 1600 characters \(got 1601\)$/);
    refused({ template: 42 }, /^template: must be a string$/);
    refused({ syntax: 'markdown', template: 'x' }, /^syntax: must be one of md_with_macros, liquid$/);
    // Accepted: the limits themselves, and Liquid-looking text under md_with_macros (never parsed).
    validateSmsTemplate({ template: 'x'.repeat(1600) }, engine);
    validateSmsTemplate({ syntax: 'md_with_macros', template: 'Code {{ code ' }, engine);
    validateSmsTemplate({ syntax: null, template: null });
    validateSmsTemplate({});
  });

  it('renderSms refuses a broken Liquid template with SmsTemplateError', async () => {
    await assert.rejects(renderSms(engine, { syntax: 'liquid', template: '{{ code ' }, vars, issuer), SmsTemplateError);
  });
});

describe('SMS secrets at rest', () => {
  const keyring = new Keyring('k'.repeat(32));
  const plain = {
    name: 'sms', provider: 'sms_gateway', twilio_sid: 'AC1', twilio_token: 'twilio-token-plain', from: '+15005550006',
    gateway_url: 'https://gw.example/sms', unknown_key: { kept: true },
    gateway_authentication: { method: 'bearer', subject: 'urn:Auth0', audience: 'urn:gw', secret: 'gateway-secret-plain', secret_base64_encoded: false },
  };

  it('seals both secrets, opens them back to Auth0\'s shape, and is idempotent both ways', () => {
    const sealed = sealSmsSecrets(keyring, plain, 'con_1');
    const text = JSON.stringify(sealed);
    assert.ok(!text.includes('twilio-token-plain') && !text.includes('gateway-secret-plain'), text);
    assert.equal('twilio_token' in sealed, false);
    assert.match(sealed.twilio_token_enc as string, /^v2\./);
    const auth = sealed.gateway_authentication as Record<string, unknown>;
    assert.equal('secret' in auth, false);
    assert.match(auth.secret_enc as string, /^v2\./);
    assert.deepEqual(sealSmsSecrets(keyring, sealed, 'con_1'), sealed, 'sealing sealed options changes nothing');

    const opened = openSmsSecrets(keyring, sealed, 'con_1');
    assert.deepEqual(opened, plain);
    assert.deepEqual(openSmsSecrets(keyring, opened, 'con_1'), plain, 'opening open options changes nothing');
    assert.equal(plain.twilio_token, 'twilio-token-plain', 'the input is not modified');
    assert.equal(plain.gateway_authentication.secret, 'gateway-secret-plain');
    assert.equal(/twilio_token_enc|"secret_enc"/.test(JSON.stringify(plain)), false);
  });

  it('passes options without secrets through, and leaves out what another key or row cannot open', () => {
    for (const o of [{}, { provider: 'twilio', twilio_token: null }, { gateway_authentication: null }, { gateway_authentication: { method: 'bearer' } }]) {
      assert.deepEqual(sealSmsSecrets(keyring, o, 'con_1'), o);
      assert.deepEqual(openSmsSecrets(keyring, o, 'con_1'), o);
    }
    const sealed = sealSmsSecrets(keyring, { twilio_token: 't' }, 'con_1');
    const other = new Keyring('o'.repeat(32));
    assert.deepEqual(openSmsSecrets(other, sealed, 'con_1'), {});
    assert.deepEqual(openSmsSecrets(keyring, sealed, 'con_2'), {}, 'sealed for another connection: not opened, not shown');
    assert.deepEqual(openSmsSecrets(keyring, sealed, 'con_1'), { twilio_token: 't' });
    // A new plain value replaces an older sealed one.
    const replaced = sealSmsSecrets(keyring, { ...sealed, twilio_token: 'new' }, 'con_1');
    assert.deepEqual(openSmsSecrets(keyring, replaced, 'con_1'), { twilio_token: 'new' });
  });
});
