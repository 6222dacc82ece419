import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HTML, DEFAULT_SUBJECT, DEFAULT_TEXT, defaultHtml, defaultSubject, defaultText, escapeHtml } from '../../src/mail/default-email.ts';
import { createTemplateEngine, type EmailVars, renderEmail } from '../../src/mail/templates.ts';

/**
 * The built-in email is rendered by plain functions on the request path (no liquidjs); they must
 * produce exactly what the Liquid sources in default-email.ts produce, byte for byte.
 */

const base: EmailVars = {
  send: 'code',
  code: '123456',
  application: { name: 'Default App' },
  email: 'alice@example.com',
  connection: { name: 'email' },
  operation: null,
  request_language: 'en',
  expires_in_minutes: 5,
};

const CASES: Array<[string, EmailVars]> = [
  ['plain code', base],
  ['markup and ampersand in the name', { ...base, application: { name: `Tom & Jerry's <script>alert("x")</script>` } }],
  ['one minute', { ...base, expires_in_minutes: 1 }],
  ['zero minutes (0 is truthy in Liquid)', { ...base, expires_in_minutes: 0 }],
  ['no expiry', { ...base, expires_in_minutes: undefined }],
  ['no code', { ...base, code: undefined }],
  ['empty name, unicode', { ...base, application: { name: '' }, code: 'ÄÖ€😀' }],
  ['link', { ...base, send: 'link', code: undefined, link: 'https://x.test/cb?a=1&b="2"<' }],
  ['link_ios without link', { ...base, send: 'link_ios', code: undefined, application: { name: 'A&B <i>' } }],
  ['link, no expiry', { ...base, send: 'link_android', link: 'https://x.test/', expires_in_minutes: undefined }],
];

for (const [name, vars] of CASES) {
  test(`default email: functions match the Liquid templates (${name})`, async () => {
    const engine = createTemplateEngine();
    const scope = { ...vars, operation: vars.operation ?? null };
    const kind = vars.send === 'code' ? 'code' : 'link';
    assert.equal(defaultSubject(vars), await engine.render('subject', DEFAULT_SUBJECT[kind], scope));
    assert.equal(defaultHtml(vars), await engine.render('body', DEFAULT_HTML, scope));
    assert.equal(defaultText(vars), await engine.render('body', DEFAULT_TEXT, scope, false));
  });
}

test('default email: renderEmail without a template escapes the name in HTML only', async () => {
  const vars = { ...base, application: { name: 'Evil <script>alert(1)</script> & co' } };
  const m = await renderEmail(createTemplateEngine(), undefined, vars, 'no-reply@acme.test');
  assert.equal(m.from, 'no-reply@acme.test');
  assert.equal(m.subject, 'Your Evil <script>alert(1)</script> & co verification code');
  assert.ok(!m.html.includes('<script>'));
  assert.ok(m.html.includes('<title>Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>'));
  assert.ok(m.text.startsWith('Your Evil <script>alert(1)</script> & co verification code is: 123456\n'));
});

test('default email: a custom subject or from still goes through Liquid, the body stays built in', async () => {
  const m = await renderEmail(createTemplateEngine(), { subject: 'Code for {{ email }}', from: '{{ application.name }} <a@b.test>' }, base, 'x@y.test');
  assert.equal(m.subject, 'Code for alice@example.com');
  assert.equal(m.from, 'Default App <a@b.test>');
  assert.equal(m.html, defaultHtml(base));
  assert.equal(m.text, defaultText(base));
});

test('escapeHtml matches liquidjs escape', async () => {
  const s = `a&b<c>d"e'f`;
  assert.equal(escapeHtml(s), await createTemplateEngine().render('body', '{{ s }}', { s }));
  assert.equal(escapeHtml('plain'), 'plain');
});
