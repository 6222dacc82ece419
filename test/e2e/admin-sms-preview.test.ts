import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

/** Issue 12, Connections page: the SMS template's live preview and "send me a test" (Sesame extensions). */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SMS preview and test message [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);

    it('POST /sesame/preview-sms renders the saved template, or unsaved fields, with sample values and counts segments', async () => {
      await t.connection('sms-preview', t.twilioOptions({ template: 'Code @@password@@', syntax: 'md_with_macros', totp: { length: 8, time_step: 300 } }));
      const saved = await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview' });
      assert.deepEqual(saved, { text: 'Code 01234567', characters: 13, segments: 1 }, "the connection's code length");

      const liquid = await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: '{{ application.name }}: {{ code }}', syntax: 'liquid', application: 'Shop' });
      assert.equal(liquid.text, 'Shop: 01234567');
      const builtIn = await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: null });
      assert.match(builtIn.text, /^Your verification code is: 01234567\n\n@localhost #01234567$/);
      const long = await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: `${'x'.repeat(200)} @@password@@` });
      assert.equal(long.segments, 2, '209 GSM-7 characters are two parts of 153');
      const unicode = await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: `${'é'.repeat(10)}✓ @@password@@` });
      assert.equal(unicode.segments, 1);
      assert.equal((await mgmt(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: `✓${'x'.repeat(70)}` })).segments, 2, 'UCS-2: 70 per single message');

      const bad = await mgmtCall(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', template: '{% if %}', syntax: 'liquid' });
      assert.equal(bad.status, 400);
      assert.match(bad.json.message, /^options\.template: /);
      assert.equal((await mgmtCall(t.server, 'POST', '/sesame/preview-sms', { connection: 'email' })).status, 404, 'not an sms connection');
      assert.equal((await mgmtCall(t.server, 'POST', '/sesame/preview-sms', { connection: 'sms-preview', syntax: 'html' })).status, 400);
    });

    it('POST /sesame/test-sms sends the sample through the provider; a refusal is a 400 in words, the number masked', async () => {
      const to = uniquePhone();
      const before = t.twilio.messages.length;
      const res = await mgmtCall(t.server, 'POST', '/sesame/test-sms', { to, connection: 'sms-preview' });
      assert.equal(res.status, 202, JSON.stringify(res.json));
      assert.match(res.json.to, /^\+\*+\d{4}$/);
      assert.equal(t.twilio.messages.length, before + 1);
      assert.deepEqual([t.twilio.messages.at(-1)!.to, t.twilio.messages.at(-1)!.body], [to, 'Code 01234567']);

      t.twilio.fail({ status: 400, code: 21608, message: `The number ${to} is unverified` });
      const refused = await mgmtCall(t.server, 'POST', '/sesame/test-sms', { to, connection: 'sms-preview' });
      assert.equal(refused.status, 400);
      assert.ok(!JSON.stringify(refused.json).includes(to.slice(1)), 'the number is masked');
      assert.equal((await mgmtCall(t.server, 'POST', '/sesame/test-sms', { to: 'twelve', connection: 'sms-preview' })).status, 400);
      assert.equal((await mgmtCall(t.server, 'POST', '/sesame/test-sms', { to, connection: 'nope' })).status, 404);
      const audit = (await t.logs('sapi')).filter((l) => l.description === 'Send a test text message');
      assert.ok(audit.length >= 1);
      assert.ok(!JSON.stringify(audit).includes(to.slice(1)) && !JSON.stringify(audit).includes('01234567'), 'neither the number nor the text is logged');
    });
  });
}
