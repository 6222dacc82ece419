import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillCustom, wordsFor } from '../../src/http/pages/custom-text.ts';
import { codeView, emailView } from '../../src/http/pages/login-views.ts';

/** @see issue 14: Auth0 custom text on the hosted page's screens (src/http/pages/custom-text.ts). */
describe('hosted page custom text', () => {
  const form = { state: 's'.repeat(43), csrf: 'c' };

  it("fills Auth0's variables from the page's values; unknown ones stay as written", () => {
    assert.equal(fillCustom('${clientName} at ${companyName}: ${email} ${unknown}', { app: 'Shop', email: 'a@b.c' }, 'Acme'), 'Shop at Acme: a@b.c ${unknown}');
    assert.equal(fillCustom('$& ${clientName}', { app: '$1 $&' }), '$& $1 $&');
  });

  it('reads the screen of the page: login wins over login-id, the sms screen for a text, nothing from other prompts', () => {
    const texts = {
      'login-id': { 'login-id': { title: 'From login-id', buttonText: 'Next' } },
      login: { login: { title: 'From login' } },
      'login-passwordless': { 'login-passwordless-email-code': { title: 'Email code' }, 'login-passwordless-sms-otp': { title: 'Text code', description: 'Sent to ${phone_number}' } },
      signup: { signup: { title: 'Never shown' } },
    };
    assert.deepEqual(wordsFor('en', texts, 'login', 'Acme').custom, { sign_in: 'From login', continue: 'Next' });
    assert.deepEqual(wordsFor('en', texts, 'login-passwordless-email-code', 'Acme').custom, { code_title: 'Email code' });
    const sms = codeView(wordsFor('en', texts, 'login-passwordless-sms-otp', 'Acme'), { ...form, phone: '+14155552671' });
    assert.match(sms.body, /<h1>Text code<\/h1>/);
    assert.match(sms.body, /Sent to <strong data-testid="phone-masked">[•+]+2671<\/strong>/);
  });

  it('escapes custom text and still names the address when the description does not', () => {
    const w = wordsFor('en', { login: { login: { title: '<img src=x onerror=alert(1)>' } }, 'login-passwordless': { 'login-passwordless-email-code': { description: 'Look in your inbox:' } } }, 'login', 'Acme');
    const page = emailView(w, { ...form, app: 'Shop', methods: 'code', send: 'code' });
    assert.match(page.body, /<h1>&lt;img src=x onerror=alert\(1\)&gt;<\/h1>/);
    const code = codeView(wordsFor('en', { 'login-passwordless': { 'login-passwordless-email-code': { description: 'Look in your inbox:' } } }, 'login-passwordless-email-code', 'Acme'), { ...form, email: 'a@b.example' });
    assert.match(code.body, /Look in your inbox: <span class="address"><strong data-testid="address">/);
  });
});
