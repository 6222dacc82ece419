import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable } from '../helpers/browser.ts';
import { type WebAppSuite, startWebAppSuite } from '../helpers/browser-suite.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import {
  assertAccessible, assertNoHorizontalScroll, expectCodeForm, expectEmailForm, expectSignedIn, screenshot, submitCode, submitEmail,
} from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/**
 * Issue 3 §2 in Chromium: the hosted login page without JavaScript, at phone size, with axe-core,
 * with the keyboard alone, in French. A regular web app (test/helpers/web-app.ts) signs in through
 * it with a code and verifies the ID token it gets.
 */
describe('hosted login page in Chromium', { skip: browserUnavailable() }, () => {
  let suite: WebAppSuite;

  before(async () => {
    suite = await startWebAppSuite();
  });
  after(async () => suite?.close());

  it('signs in with a code without JavaScript (plain forms and redirects)', async () => {
    const ctx = await suite.context({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const email = uniqueEmail('nojs');
    await page.goto(suite.loginUrl());
    await submitEmail(page, email);
    await submitCode(page, extractCode(await suite.mailTo(email)));
    await expectSignedIn(page, email);
    await ctx.close();
  });

  for (const phone of [true, false]) {
    it(`is usable and accessible at ${phone ? 'phone size (375×667)' : 'desktop size'}: email, wrong code, code (screenshots)`, async () => {
      const ctx = await suite.context({ phone });
      const page = await ctx.newPage();
      // Fixed, readable addresses: they appear in the screenshots of the README (each file has a fresh database).
      const email = phone ? 'alex@example.com' : 'sam@example.com';
      await page.goto(suite.loginUrl());
      await expectEmailForm(page);
      if (phone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, 'the email form');
      await screenshot(page, 'email', phone);

      await submitEmail(page, email);
      const code = extractCode(await suite.mailTo(email));
      await expectCodeForm(page);
      if (phone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, 'the code form');
      await screenshot(page, 'code', phone);

      await submitCode(page, code === '000000' ? '111111' : '000000');
      const alert = page.locator('[role="alert"]');
      await alert.first().waitFor({ timeout: 15_000 });
      assert.match(await alert.first().innerText(), /\S/);
      if (phone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, 'the code form with an error');
      await screenshot(page, 'error', phone);

      await submitCode(page, code);
      await expectSignedIn(page, email);
      await ctx.close();
    });
  }

  it('completes with the keyboard alone (Tab and Enter)', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('keys');
    await page.goto(suite.loginUrl());
    await expectEmailForm(page);
    await tabTo(page, '[data-testid="email"]');
    await page.keyboard.type(email);
    await tabTo(page, 'form:has([data-testid="email"]) [data-testid="submit"]');
    await page.keyboard.press('Enter');
    const code = extractCode(await suite.mailTo(email));
    await expectCodeForm(page);
    await tabTo(page, '[data-testid="code"]');
    await page.keyboard.type(code);
    await tabTo(page, 'form:has([data-testid="code"]) [data-testid="submit"]');
    await page.keyboard.press('Enter');
    await expectSignedIn(page, email);
    await ctx.close();
  });

  it('speaks French from ui_locales, and from Accept-Language alone', async () => {
    const ctx = await suite.context({ locale: 'fr-FR' });
    const page = await ctx.newPage();
    const email = uniqueEmail('fr');
    await page.goto(suite.loginUrl({ ui_locales: 'fr' }));
    await expectEmailForm(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    const frenchButton = await page.locator('[data-testid="submit"]').innerText();
    await submitEmail(page, email);
    await expectCodeForm(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    await submitCode(page, extractCode(await suite.mailTo(email)));
    await expectSignedIn(page, email);

    // The same context without ui_locales: Chromium sends Accept-Language: fr-FR.
    const again = await ctx.newPage();
    await again.goto(suite.loginUrl({ prompt: 'login' }));
    await expectEmailForm(again);
    assert.equal(await again.getAttribute('html', 'lang'), 'fr');
    // And an English browser gets another text on the same button.
    const en = await (await suite.context({ locale: 'en-US' })).newPage();
    await en.goto(suite.loginUrl());
    await expectEmailForm(en);
    assert.equal(await en.getAttribute('html', 'lang'), 'en');
    assert.notEqual(await en.locator('[data-testid="submit"]').innerText(), frenchButton);
    await ctx.close();
    await en.context().close();
  });
});

/** Presses Tab until `selector` has the focus (at most 25 times): the keyboard path a person takes. */
async function tabTo(page: Page, selector: string): Promise<void> {
  const target = page.locator(selector).first();
  for (let i = 0; i < 25; i++) {
    if (await target.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${selector} never received the focus with Tab`);
}
