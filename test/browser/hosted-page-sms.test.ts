import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserUnavailable } from '../helpers/browser.ts';
import { type WebAppSuite, startWebAppSuite } from '../helpers/browser-suite.ts';
import {
  assertAccessible, assertNoHorizontalScroll, expectCodeForm, expectPhoneForm, expectSignedInAs, screenshot, submitCode, submitPhone,
} from '../helpers/hosted-page.ts';
import { type TwilioServer, codeFromSms, startTwilioServer } from '../helpers/sms-servers.ts';
import { uniquePhone } from '../helpers/sms-tenant.ts';

/**
 * Issue 5 follow-up in Chromium: a regular web app (test/helpers/web-app.ts) signs in by text
 * message through the hosted page, `/authorize?connection=sms`, typing the number as people do; the
 * Twilio double (test/helpers/sms-servers.ts) is the other side of the wire. SQLite only, as the
 * other browser files.
 */
describe('hosted login page by SMS in Chromium', { skip: browserUnavailable() }, () => {
  let suite: WebAppSuite;
  let twilio: TwilioServer;

  before(async () => {
    twilio = await startTwilioServer();
    suite = await startWebAppSuite({ env: { SESAME_TWILIO_API_URL: twilio.url } });
    const conn = await suite.api('POST', '/connections', {
      name: 'sms', strategy: 'sms', enabled_clients: [suite.clientId],
      options: { provider: 'twilio', twilio_sid: twilio.accountSid, twilio_token: twilio.authToken, from: '+15005550006' },
    });
    assert.equal(conn.status, 201, JSON.stringify(conn.body));
  });
  after(async () => {
    await suite?.close();
    await twilio?.close();
  });

  /** The one text sent to `e164` since `since` messages (sent during the request, so already there). */
  const codeTo = (e164: string, since: number) => {
    const texts = twilio.messages.slice(since).filter((m) => m.to === e164);
    assert.equal(texts.length, 1, `one text to ${e164}`);
    return codeFromSms(texts[0]!.body);
  };

  it('signs in at phone size (375×667) by typing the number and the code; accessible, no horizontal scroll', async () => {
    const ctx = await suite.context({ phone: true });
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone' }));
    await expectPhoneForm(page);
    const input = page.locator('[data-testid="phone-input"]');
    assert.equal(await input.getAttribute('type'), 'tel');
    assert.equal(await input.getAttribute('autocomplete'), 'tel');
    assert.equal(await input.getAttribute('inputmode'), 'tel');
    await assertNoHorizontalScroll(page);
    await assertAccessible(page, 'the phone form');
    await screenshot(page, 'sms-number', true);

    // A wrong number first (a French one, in the United States chosen from the browser's en-US):
    // the same form with the reason, still accessible.
    assert.equal(await page.locator('[data-testid="country"]').inputValue(), 'US');
    await submitPhone(page, '0612345678');
    await page.locator('#phone-error[role="alert"]').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#phone-error').innerText(), /This phone number is not valid/);
    await assertNoHorizontalScroll(page);
    await assertAccessible(page, 'the phone form with an error');

    const e164 = uniquePhone();
    const since = twilio.messages.length;
    await submitPhone(page, `${e164.slice(0, 2)} ${e164.slice(2, 5)} ${e164.slice(5, 8)} ${e164.slice(8)}`);
    await expectCodeForm(page);
    assert.equal(await page.locator('[data-testid="phone-masked"]').innerText(), `+${'•'.repeat(e164.length - 5)}${e164.slice(-4)}`);
    await assertNoHorizontalScroll(page);
    await assertAccessible(page, 'the code form after a text');
    await screenshot(page, 'sms-code', true);

    await submitCode(page, codeTo(e164, since));
    const claims = await expectSignedInAs(page, { phone_number: e164, phone_verified: true });
    assert.match(String(claims.sub), /^sms\|/);
    await ctx.close();
  });

  it('takes a national number with a country found through the filter box, showing it in international form before sending', async () => {
    // A French browser: the list starts at France (Accept-Language fr-FR), names in French.
    const ctx = await suite.context({ phone: true, locale: 'fr-FR' });
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone', ui_locales: 'fr' }));
    await expectPhoneForm(page);
    const country = page.locator('[data-testid="country"]');
    const filter = page.locator('[data-testid="country-filter"]');
    const preview = page.locator('[data-testid="phone-preview"]');
    assert.equal(await country.inputValue(), 'FR');
    assert.equal(await country.locator('option:checked').innerText(), 'France (+33)');
    assert.ok(await filter.isVisible(), 'the script shows the filter box');

    // Filtering by name, accents and case ignored, keeps the matches only and chooses the first.
    await filter.fill('etats');
    assert.deepEqual(await country.locator('option').allInnerTexts(), ['États-Unis (+1)', 'Îles Vierges des États-Unis (+1)']);
    assert.equal(await country.inputValue(), 'US');
    // By keyboard: type in the box, Enter goes to the list (the form is not submitted).
    await filter.fill('');
    await filter.pressSequentially('belg');
    await filter.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'country');
    assert.equal(await country.inputValue(), 'BE');
    await expectPhoneForm(page);
    await filter.fill('');
    assert.equal(await country.locator('option').count(), 246, 'every country again, and "Choisissez un pays"');
    assert.equal(await country.inputValue(), 'BE', 'the choice stays');
    await country.selectOption('FR');
    await assertNoHorizontalScroll(page);
    await assertAccessible(page, 'the phone form with its country list');

    // A French mobile number (06 1x xx xx xx) of this run, typed as in France.
    const rest = String(1_000_000 + ((process.pid * 7919) % 9_000_000));
    const e164 = `+3361${rest}`;
    const national = `06 1${rest.slice(0, 1)} ${rest.slice(1, 3)} ${rest.slice(3, 5)} ${rest.slice(5)}`;
    await page.locator('[data-testid="phone-input"]').pressSequentially(national);
    await preview.getByText(`Nous enverrons le code au +33 ${national.slice(1)}.`).waitFor({ timeout: 10_000 });
    assert.equal(await preview.getAttribute('role'), 'status');
    // Another country: the same digits are no number there, and the preview says nothing.
    await country.selectOption('US');
    await preview.locator('p').waitFor({ state: 'detached', timeout: 10_000 });
    await country.selectOption('FR');
    await preview.locator('p').waitFor({ timeout: 10_000 });

    const since = twilio.messages.length;
    await page.locator('form:has([data-testid="phone-input"]) [data-testid="submit"]').click();
    await expectCodeForm(page);
    await submitCode(page, codeTo(e164, since));
    await expectSignedInAs(page, { phone_number: e164, phone_verified: true });
    await ctx.close();
  });

  it('works without JavaScript: the list alone, and the server turns the national number into E.164', async () => {
    const ctx = await suite.context({ javaScriptEnabled: false, locale: 'en-GB' });
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone' }));
    await expectPhoneForm(page);
    assert.equal(await page.locator('[data-testid="country"]').inputValue(), 'GB');
    assert.equal(await page.locator('[data-testid="country-filter"]').isVisible(), false);
    const e164 = `+447911${String(100_000 + (process.pid % 900_000))}`;
    const since = twilio.messages.length;
    await submitPhone(page, `0${e164.slice(3, 7)} ${e164.slice(7)}`); // 07911 123456, as dialled in the UK
    await expectCodeForm(page);
    assert.equal(codeTo(e164, since).length, 6);
    await ctx.close();
  });

  it('fills and submits the code by itself where the WebOTP API hands it over (the text is bound to this origin)', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    // Stands in for Chrome on Android, which reads the incoming text: it hands over the code only if
    // the text's last line is `@<this page's host> #<code>` (WICG origin-bound one-time codes).
    const e164 = uniquePhone();
    const since = twilio.messages.length;
    await page.exposeFunction('__incomingSms', () => twilio.messages.slice(since).find((m) => m.to === e164)?.body ?? '');
    // A string, not a function: the test runner's transpiler would wrap a function in helpers the page lacks.
    await page.addInitScript(`
      window.OTPCredential = function OTPCredential() {};
      navigator.credentials.get = async (opts) => {
        if (!opts || !opts.otp || !opts.otp.transport.includes('sms')) throw new Error('not an OTP request');
        let text = '';
        for (let i = 0; i < 100 && !text; i++) {
          text = await window.__incomingSms();
          if (!text) await new Promise((r) => setTimeout(r, 100));
        }
        const m = /^@(\\S+) #(\\S+)$/.exec(text.trim().split('\\n').at(-1) || '');
        if (!m || m[1] !== location.hostname) throw new DOMException('not bound to this origin', 'AbortError');
        return { type: 'otp', code: m[2] };
      };
    `);
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone' }));
    await expectPhoneForm(page);
    // Only the number is typed: the code page fills and submits the code itself.
    await submitPhone(page, e164);
    await expectSignedInAs(page, { phone_number: e164, phone_verified: true });
    await ctx.close();
  });
});
