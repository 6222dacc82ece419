import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { type Outcome, type WebAppSuite, callPage, describePage, startWebAppSuite } from '../helpers/browser-suite.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { expectSignedIn, navigation } from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

const TEMPLATE = readFileSync(new URL('./pages/custom-login-lock.html', import.meta.url), 'utf8');
const ENFORCE = 'enforce_client_authentication_on_passwordless_start';

/**
 * Issue 3 §3, §5 in Chromium with Lock 14 in passwordless mode: Auth0's custom login page template
 * that forwards `config.internalOptions` (no depnote), the same page without it (depnote; with
 * enforcement on, Lock shows the 403), and Lock embedded in an app on another site (/client/{id}.js,
 * /info-v1.js, /co/authenticate).
 */
describe('Lock passwordless and custom login pages in Chromium', { skip: browserUnavailable() }, () => {
  let suite: WebAppSuite;

  before(async () => {
    suite = await startWebAppSuite();
  });
  after(async () => suite?.close());

  const depnotes = () => suite.logs(`type:depnote AND client_id:"${suite.clientId}"`);

  async function tenant(patch: Record<string, unknown>): Promise<void> {
    const res = await suite.api('PATCH', '/tenants/settings', patch);
    assert.equal(res.status, 200, `PATCH /api/v2/tenants/settings: ${JSON.stringify(res.body)}`);
  }

  /** Auth0's Lock template as the tenant's custom login page; `forward: false` drops config.internalOptions. */
  async function customPage(forward: boolean): Promise<void> {
    const html = TEMPLATE.replace('{{LOCK_URL}}', `${suite.spa.origin}/sdk/lock.js`)
      .replace('/*PARAMS*/config.internalOptions', forward ? 'config.internalOptions' : "{ scope: 'openid profile email' }");
    await tenant({ custom_login_page_on: true, custom_login_page: html });
  }

  /** Lock's email screen → "send" → waits for the code screen or Lock's error message. */
  async function lockEmail(page: Page, email: string): Promise<'code' | string> {
    const input = page.locator('.auth0-lock input[name="email"]');
    await input.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`Lock did not show its email screen:\n${await describePage(page)}`));
    await input.fill(email);
    await page.locator('.auth0-lock button.auth0-lock-submit').click();
    const code = page.locator('.auth0-lock input[name="vcode"]');
    const error = page.locator('.auth0-lock .auth0-global-message-error');
    await code.or(error).first().waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`Lock showed neither the code screen nor an error:\n${await describePage(page)}`));
    return (await code.count()) ? 'code' : (await error.innerText()).trim();
  }

  async function lockCode(page: Page, code: string): Promise<void> {
    await page.locator('.auth0-lock input[name="vcode"]').fill(code);
    await page.locator('.auth0-lock button.auth0-lock-submit').click();
  }

  it('custom login page with Lock forwarding config.internalOptions: code login completes, no depnote', async () => {
    await customPage(true);
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('lock-ul');
    await page.goto(suite.loginUrl());
    assert.equal(await lockEmail(page, email), 'code');
    // On the login page's own host Lock verifies with POST /passwordless/verify, then verify_redirect (spec §3.4, §8.2).
    await lockCode(page, extractCode(await suite.mailTo(email)));
    await expectSignedIn(page, email);
    assert.deepEqual(await depnotes(), []);
    await ctx.close();
  });

  it('custom login page that drops config.internalOptions: the start is logged as a depnote', async () => {
    await customPage(false);
    const before = (await depnotes()).length;
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl());
    assert.equal(await lockEmail(page, uniqueEmail('lock-drop')), 'code', 'with enforcement off the code is still sent');
    const after = await depnotes();
    assert.equal(after.length, before + 1, 'one depnote for the unauthenticated start');
    assert.match(String(after[0]?.description), /^Enforce client authentication for passwordless connections/);
    await ctx.close();
  });

  it('with enforcement on, Lock shows the 403 on the page that drops internalOptions; the forwarding page still works', async () => {
    await tenant({ flags: { [ENFORCE]: true } });
    try {
      await customPage(false);
      const ctx = await suite.context();
      const page = await ctx.newPage();
      await page.goto(suite.loginUrl());
      const refused = page.waitForResponse((r) => r.url() === `${suite.issuer}passwordless/start` && r.request().method() === 'POST');
      const shown = await lockEmail(page, uniqueEmail('lock-403'));
      const res = await refused;
      assert.deepEqual({ status: res.status(), body: await res.json() }, {
        status: 403, body: { error: 'unauthorized_client', error_description: 'Client authentication is required' },
      });
      assert.notEqual(shown, 'code', 'Lock stays on the email screen');
      assert.match(shown, /\S/, 'Lock shows an error message (its generic "something went wrong" for a 403)');

      await customPage(true);
      const ok = await ctx.newPage();
      const email = uniqueEmail('lock-enforced');
      await ok.goto(suite.loginUrl());
      assert.equal(await lockEmail(ok, email), 'code');
      await lockCode(ok, extractCode(await suite.mailTo(email)));
      await expectSignedIn(ok, email);
      await ctx.close();
    } finally {
      await tenant({ flags: { [ENFORCE]: false }, custom_login_page_on: false });
    }
  });

  it('Lock (passwordless) embedded in an app on another site completes a code login through /co/authenticate', async () => {
    const lockPage = suite.spa.page('lock.html');
    const { client } = await createClient(suite.srv, {
      app_type: 'spa', grant_types: ['authorization_code', 'implicit', PASSWORDLESS_OTP_GRANT], callbacks: [lockPage],
      allowed_origins: [suite.spa.origin], web_origins: [suite.spa.origin], cross_origin_authentication: true,
    });
    const cfg = { domain: suite.domain, clientId: client.client_id };
    // Cross-origin login needs the cookie /co/authenticate sets from the app's site (spec §3.6).
    const ctx = await suite.context({ thirdPartyCookies: true });
    const page = await ctx.newPage();
    const email = uniqueEmail('lock-embedded');
    await page.goto(lockPage);
    await callPage(page, 'init', cfg);
    await callPage(page, 'show');
    assert.equal(await lockEmail(page, email), 'code');
    const code = extractCode(await suite.mailTo(email));
    await navigation(page, (u) => u.href.startsWith(lockPage) && u.hash.length > 1, () => lockCode(page, code), 'Lock → /co/authenticate → /authorize?login_ticket → back');

    // A Lock constructed on the callback parses the hash and emits `authenticated`.
    await callPage(page, 'init', cfg);
    await page.waitForFunction('window.lockResult !== null', undefined, { timeout: 15_000 }).catch(async () => assert.fail(`Lock never parsed the callback:\n${await describePage(page)}`));
    const result = await page.evaluate<Outcome<{ idToken: string; accessToken: string; idTokenPayload: { nonce: string } }>>('window.lockResult');
    assert.ok(result.ok, `Lock: ${JSON.stringify(result)}`);
    const claims = await suite.verifyIdToken(result.ok.idToken, client.client_id, result.ok.idTokenPayload.nonce);
    assert.equal(claims.email, email);
    assert.deepEqual(await suite.logs(`type:depnote AND client_id:"${client.client_id}"`), []);
    await ctx.close();
  });
});
