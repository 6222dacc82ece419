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

  it('shows the custom text set for French to a French browser only (issue 14, /prompts/…/custom-text)', async () => {
    const text = { login: { title: 'Bienvenue <chez nous>', buttonText: 'Suivant' } };
    assert.equal((await suite.api('PUT', '/prompts/login/custom-text/fr', text)).status, 200);
    try {
      const fr = await (await suite.context({ locale: 'fr-FR' })).newPage();
      await fr.goto(suite.loginUrl());
      await expectEmailForm(fr);
      assert.equal(await fr.locator('h1').innerText(), 'Bienvenue <chez nous>');
      assert.equal(await fr.locator('[data-testid="submit"]').innerText(), 'Suivant');
      const en = await (await suite.context({ locale: 'en-US' })).newPage();
      await en.goto(suite.loginUrl());
      await expectEmailForm(en);
      assert.equal(await en.locator('h1').innerText(), 'Sign in');
      await fr.context().close();
      await en.context().close();
    } finally {
      await suite.api('PUT', '/prompts/login/custom-text/fr', {});
    }
  });

  // Last in the file: it changes the tenant's branding and connection for what follows.
  it('at 375 px: a long address wraps only at @ or a dot, a broken logo shows nothing, radios take the brand colour', async () => {
    // A logo URL that cannot load (nothing listens on port 9), a brand colour, and both methods.
    assert.equal((await suite.api('PATCH', '/branding', { logo_url: 'https://127.0.0.1:9/logo.png', colors: { primary: '#aa3300' } })).status, 200);
    const conns = (await suite.api('GET', '/connections?name=email')).body as { id: string; options: Record<string, unknown> }[];
    const conn = conns[0]!;
    assert.equal((await suite.api('PATCH', `/connections/${conn.id}`, { options: { ...conn.options, authentication_method: 'both' } })).status, 200);
    const ctx = await suite.context({ phone: true });
    try {
      const page = await ctx.newPage();
      await page.goto(suite.loginUrl());
      await expectEmailForm(page);
      const logo = page.locator('img.logo');
      await page.waitForFunction('document.querySelector("img.logo").complete');
      const box = await logo.boundingBox();
      assert.ok(box === null || box.width * box.height === 0, `a broken logo takes no room: ${JSON.stringify(box)}`);
      assert.equal(await logo.getAttribute('alt'), '', 'and has no alt text to show');

      const radios = await page.locator('input[type=radio]').all();
      assert.equal(radios.length, 2);
      for (const radio of radios) {
        const id = (await radio.getAttribute('id'))!;
        assert.equal(await page.evaluate<string>(`getComputedStyle(document.getElementById(${JSON.stringify(id)})).accentColor`), 'rgb(170, 51, 0)');
        const label = page.locator(`label[for="${id}"]`);
        const [r, l] = [(await radio.boundingBox())!, (await label.boundingBox())!];
        assert.ok(Math.abs(r.y + r.height / 2 - (l.y + l.height / 2)) <= 2, `radio and label share a centre line: ${JSON.stringify([r, l])}`);
      }
      await assertAccessible(page, 'the email form with both methods and a broken logo');

      // Too long for one line at 375 px: it must break between "first.last@", "example", ".com"
      // parts only, never inside one; a short one must not break at all.
      for (const email of ['browser3@example.com', 'firstname.middlename.lastname@subdomain.example-company.com']) {
        await page.goto(suite.loginUrl({ prompt: 'login' }));
        await submitEmail(page, email, 'code');
        await expectCodeForm(page);
        await assertNoHorizontalScroll(page);
        // Each part of the address is a span: where do the fragments of its text sit?
        const lines = await page.evaluate<{ parts: { text: string; tops: number[] }[]; width: number; room: number }>(`(() => {
          const el = document.querySelector('[data-testid="address"]');
          const parts = [...el.children].map((n) => {
            const range = document.createRange();
            range.selectNodeContents(n);
            return { text: n.textContent, tops: [...range.getClientRects()].map((r) => Math.round(r.top)) };
          });
          return { parts, width: el.getBoundingClientRect().width, room: el.closest('p').clientWidth };
        })()`);
        for (const part of lines.parts) assert.equal(new Set(part.tops).size, 1, `"${part.text}" is broken inside: ${JSON.stringify(lines)}`);
        const rows = new Set(lines.parts.map((p) => p.tops[0]));
        if (email.length < 25) assert.equal(rows.size, 1, `a short address stays on one line: ${JSON.stringify(lines)}`);
        else assert.ok(rows.size > 1 && lines.width <= lines.room, `a long address wraps inside the card: ${JSON.stringify(lines)}`);
        assert.equal(lines.parts.map((p) => p.text).join(''), email);
        if (email.length > 25) await screenshot(page, 'long-address', true);
      }
    } finally {
      await ctx.close();
    }
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
