import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { type WebAppSuite, describePage, extractLink, startWebAppSuite } from '../helpers/browser-suite.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import {
  assertAccessible, assertNoHorizontalScroll, expectLinkSent, expectSignedIn, screenshot, submitCode, submitEmail,
} from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

// The store-heavy browser file (links, relay codes, atomic consumption) runs on PostgreSQL when it
// answers (always in CI), so both backends see real browsers; the other files use SQLite.
const backend = (await backendMatrix()).some((b) => b.backend === 'postgres' && !b.skip) ? 'postgres' : 'sqlite';

/**
 * Issue 3 §2, §4 in Chromium: a regular web app signing in through the hosted page with a code and
 * with a magic link, a mail scanner fetching the link first, and the link opened in another
 * browser (relay code). Screenshots: link-sent and other-device, phone and desktop.
 */
describe(`regular web app and magic links in Chromium [${backend}]`, { skip: browserUnavailable() }, () => {
  let suite: WebAppSuite;

  before(async () => {
    suite = await startWebAppSuite({ backend });
    // The connection offers both methods, so the email form has the `send` choice (issue 3 §2).
    const conn = (await suite.srv.services.store.getConnectionByName('email'))!;
    const res = await suite.api('PATCH', `/connections/${conn.id}`, { options: { ...conn.options, authentication_method: 'both' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
  after(async () => suite?.close());

  const noDepnote = async () => assert.deepEqual(await suite.logs(`type:depnote AND client_id:"${suite.clientId}"`), []);

  /** Starts a link sign-in in `page` and returns the mailed link. */
  async function sendLink(page: Page, email: string): Promise<string> {
    await page.goto(suite.loginUrl({ send: 'link' }));
    await submitEmail(page, email, 'link');
    await expectLinkSent(page);
    const link = extractLink(await suite.mailTo(email));
    assert.ok(link.startsWith(`${suite.issuer}passwordless/verify_redirect?`), link);
    return link;
  }

  /** Clicks the link page's explicit Continue (GET never signs in anywhere but the first browser, by script). */
  async function confirmLink(page: Page): Promise<void> {
    const button = page.locator('form[action$="/passwordless/verify_redirect"] [type="submit"]');
    await button.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`expected the link's confirm page:\n${await describePage(page)}`));
    await button.click();
    // The POST's answer replaces the page (its URL has no query, or it redirects to the app).
    await button.waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForLoadState('load');
  }

  it('signs in through the hosted page with a code, without a depnote', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('rwa-code');
    await page.goto(suite.loginUrl({ send: 'code' }));
    await submitEmail(page, email, 'code');
    await submitCode(page, extractCode(await suite.mailTo(email)));
    const claims = await expectSignedIn(page, email);
    assert.equal(claims.aud, suite.clientId);
    await noDepnote();
    await ctx.close();
  });

  it('signs in with a magic link opened in a new tab; the first tab shows it is done; the link works once', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('rwa-link');
    const link = await sendLink(page, email);
    const heading = await page.locator('h1').innerText();

    const tab = await ctx.newPage();
    await tab.goto(link);
    await expectSignedIn(tab, email);

    // The "check your inbox" tab notices (it polls) and says the sign-in is done.
    await page.locator('[data-testid="relay-input"]').waitFor({ state: 'hidden', timeout: 15_000 }).catch(async () => {
      assert.fail(`the first tab did not show that the sign-in is done:\n${await describePage(page)}`);
    });
    assert.notEqual(await page.locator('h1').innerText(), heading);

    // Single use: the same link again is refused with an explanation, and signs nobody in.
    const before = suite.web.results.length;
    const again = await ctx.newPage();
    await again.goto(link);
    await confirmLink(again);
    // In the browser that finished, the page says the sign-in is already complete.
    assert.match(await again.locator('main').innerText(), /already|complete/i);
    assert.equal(new URL(again.url()).origin, new URL(suite.issuer).origin, 'a used link stays on Sesame');
    // In any other browser, it is refused with an explanation.
    const elsewhere = await (await suite.context()).newPage();
    await elsewhere.goto(link);
    await confirmLink(elsewhere);
    await elsewhere.locator('[role="alert"]').first().waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`a used link should explain itself:\n${await describePage(elsewhere)}`));
    assert.equal(new URL(elsewhere.url()).origin, new URL(suite.issuer).origin, 'a used link stays on Sesame');
    assert.equal(suite.web.results.length, before, 'a used link signs nobody in');
    await elsewhere.context().close();

    await noDepnote();
    assert.ok((await suite.logs(`type:cls AND client_id:"${suite.clientId}"`)).length >= 1, 'a cls log for the link');
    await ctx.close();
  });

  it('survives a mail scanner: GET twice, HEAD, and a script-less browser before the click', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('rwa-scan');
    const link = await sendLink(page, email);

    for (const method of ['GET', 'GET', 'HEAD']) {
      const res = await suite.fetch(link, { method, headers: { 'user-agent': 'Mozilla/5.0 (compatible; SafeLinks scanner)' } });
      assert.equal(res.status, 200, `${method} ${res.status}`);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${method} must not be cached`);
      await res.arrayBuffer();
    }
    const scanner = await suite.context({ javaScriptEnabled: false });
    const scanned = await scanner.newPage();
    const res = await scanned.goto(link);
    assert.equal(res?.status(), 200);
    assert.equal(suite.web.results.filter((r) => r.claims?.email === email).length, 0, 'the scanner signed nobody in');
    await scanner.close();

    const tab = await ctx.newPage();
    await tab.goto(link);
    await expectSignedIn(tab, email);
    await ctx.close();
  });

  for (const [origPhone, otherPhone] of [[false, true], [true, false]] as const) {
    it(`refuses the link in another browser with an explanation and a relay code that finishes in the first tab (${origPhone ? 'phone' : 'desktop'} → ${otherPhone ? 'phone' : 'desktop'})`, async () => {
      const ctx = await suite.context({ phone: origPhone });
      const page = await ctx.newPage();
      // Fixed, readable addresses: they appear in the screenshots of the README (each file has a fresh database).
      const email = origPhone ? 'sam@example.com' : 'alex@example.com';
      const link = await sendLink(page, email);
      if (origPhone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, '"check your inbox"');
      await screenshot(page, 'link-sent', origPhone);

      const other = await suite.context({ phone: otherPhone });
      const far = await other.newPage();
      await far.goto(link);
      // GET only reads (scanners); the explanation comes with the explicit Continue.
      await confirmLink(far);
      const relay = far.locator('[data-testid="relay-code"]');
      await relay.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`expected the other-device page:\n${await describePage(far)}`));
      const relayCode = (await relay.innerText()).trim();
      assert.match(relayCode, /^[A-Z2-9]{3}-[A-Z2-9]{3}$/);
      assert.match(await far.locator('main').innerText(), /browser|device/i, 'the page explains why');
      if (otherPhone) await assertNoHorizontalScroll(far);
      await assertAccessible(far, 'the other-device page');
      await screenshot(far, 'other-device', otherPhone);
      assert.equal(suite.web.results.filter((r) => r.claims?.email === email).length, 0, 'the other browser signed nobody in');

      if (!origPhone) {
        // A wrong relay code is refused with what is left (3 tries in all).
        await page.locator('[data-testid="relay-input"]').fill(relayCode === 'ZZZ-ZZZ' ? 'YYY-YYY' : 'ZZZ-ZZZ');
        await page.locator('form:has([data-testid="relay-input"]) [data-testid="submit"]').click();
        await page.locator('[role="alert"]').first().waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`a wrong relay code should be explained:\n${await describePage(page)}`));
      }
      await page.locator('[data-testid="relay-input"]').fill(relayCode);
      await page.locator('form:has([data-testid="relay-input"]) [data-testid="submit"]').click();
      await expectSignedIn(page, email);
      await noDepnote();
      await other.close();
      await ctx.close();
    });
  }
});
