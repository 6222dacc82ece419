import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { type Outcome, type WebAppSuite, callPage, describePage, startWebAppSuite } from '../helpers/browser-suite.ts';
import { createClient } from '../helpers/fixtures.ts';
import { expectSignedInAs, navigation } from '../helpers/hosted-page.ts';
import { type TwilioServer, codeFromSms, startTwilioServer } from '../helpers/sms-servers.ts';
import { uniquePhone } from '../helpers/sms-tenant.ts';

const TEMPLATE = readFileSync(new URL('./pages/custom-login-lock.html', import.meta.url), 'utf8');
/** Lock's own text for `bad.phone_number` (node_modules/auth0-lock/lib/i18n/en.js, error.passwordless). */
const LOCK_BAD_PHONE = 'The phone number is invalid';

type Json = Record<string, unknown>;

/**
 * Issue 5 with the official browser SDKs, unchanged, in Chromium: Lock 14 in passwordless mode on
 * the tenant's custom login page (Auth0's Lock template, which forwards `config.internalOptions`;
 * `/authorize?connection=sms` makes its `allowedConnections` `['sms']`) with its phone screen and
 * country picker, and auth0-js 10's `passwordlessStart`/`passwordlessLogin` for `sms` from an app
 * on another site. The Twilio double (test/helpers/sms-servers.ts) is the other side of the wire.
 */
describe('Lock and auth0-js SMS passwordless in Chromium', { skip: browserUnavailable() }, () => {
  let suite: WebAppSuite;
  let twilio: TwilioServer;
  let spaClientId: string;

  before(async () => {
    twilio = await startTwilioServer();
    suite = await startWebAppSuite({ env: { SESAME_TWILIO_API_URL: twilio.url } });
    const { client } = await createClient(suite.srv, {
      app_type: 'spa', grant_types: ['authorization_code', 'implicit', PASSWORDLESS_OTP_GRANT], callbacks: [suite.spa.page('auth0js.html')],
      allowed_origins: [suite.spa.origin], web_origins: [suite.spa.origin], cross_origin_authentication: true,
    });
    spaClientId = client.client_id;
    const conn = await suite.api('POST', '/connections', {
      name: 'sms', strategy: 'sms', enabled_clients: [suite.clientId, spaClientId],
      options: { provider: 'twilio', twilio_sid: twilio.accountSid, twilio_token: twilio.authToken, from: '+15005550006' },
    });
    assert.equal(conn.status, 201, JSON.stringify(conn.body));
    // Auth0's Lock (passwordless) template, unchanged but for where Lock is served from.
    const page = await suite.api('PATCH', '/tenants/settings', {
      custom_login_page_on: true, custom_login_page: TEMPLATE.replace('{{LOCK_URL}}', `${suite.spa.origin}/sdk/lock.js`),
    });
    assert.equal(page.status, 200, JSON.stringify(page.body));
  });
  after(async () => {
    await suite?.close();
    await twilio?.close();
  });

  const depnotes = (clientId: string) => suite.logs(`type:depnote AND client_id:"${clientId}"`);
  const body = (r: Request) => r.postDataJSON() as Json;
  const isPost = (path: string) => (r: Request) => r.url() === `${suite.issuer}${path}` && r.method() === 'POST';

  /** The one text sent to `e164` since `since` messages (sent during the request, so already there). */
  const codeTo = (e164: string, since: number) => {
    const texts = twilio.messages.slice(since).filter((m) => m.to === e164);
    assert.equal(texts.length, 1, `one text to ${e164}; Twilio got: ${JSON.stringify(twilio.messages.slice(since).map((m) => m.to))}`);
    return codeFromSms(texts[0]!.body);
  };

  /**
   * Lock's phone screen: picks the country in its picker (search, then the list item, labelled
   * `<dial code> <ISO> <name>`), types the national number as people do, sends. Returns the start
   * request Lock made and what Lock shows next: the code screen or its error message.
   */
  async function lockPhone(page: Page, country: { name: string; iso: string; dial: string }, national: string): Promise<{ shown: 'code' | string; start: Request }> {
    const location = page.locator('.auth0-lock input[name="location"]');
    await location.waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`Lock did not show its phone screen:\n${await describePage(page)}`));
    await location.click();
    await page.locator('.auth0-lock .auth0-lock-search input').fill(country.name);
    await page.locator('.auth0-lock .auth0-lock-list-code li', { hasText: `${country.dial} ${country.iso} ${country.name}` }).first().click();
    assert.equal(await location.inputValue(), `${country.dial} ${country.name}`, 'the picker shows the chosen country');

    await page.locator('.auth0-lock input[name="phoneNumber"]').fill(national);
    const start = page.waitForRequest(isPost('passwordless/start'));
    await page.locator('.auth0-lock button.auth0-lock-submit').click();
    const request = await start;
    const code = page.locator('.auth0-lock input[name="vcode"]');
    const error = page.locator('.auth0-lock .auth0-global-message-error');
    await code.or(error).first().waitFor({ timeout: 15_000 }).catch(async () => assert.fail(`Lock showed neither the code screen nor an error:\n${await describePage(page)}`));
    // textContent, not innerText: Lock's stylesheet upper-cases the message on screen.
    return { shown: (await code.count()) ? 'code' : (await error.textContent() ?? '').trim(), start: request };
  }

  const FRANCE = { name: 'France', iso: 'FR', dial: '+33' };

  it('Lock on the custom login page: country picker, number typed with its trunk 0, code by SMS, signed in; no depnote', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone' }));
    const since = twilio.messages.length;
    // A French user types the number as printed at home, "06 12 34 56 78".
    const { shown, start } = await lockPhone(page, FRANCE, '06 12 34 56 78');
    assert.equal(shown, 'code', 'Lock moves on to its code screen');

    // Lock joins the dial code and the number and strips spaces and dashes (phoneNumberWithDiallingCode):
    // the trunk 0 stays, and Sesame's E.164 normalisation (libphonenumber) drops it.
    const sent = body(start);
    assert.equal(sent.phone_number, '+330612345678');
    assert.equal(sent.connection, 'sms');
    assert.equal(sent.send, 'code');
    assert.equal(sent.client_id, suite.clientId);
    assert.equal((await (await start.response())!.json() as Json).phone_number, '+33612345678', 'the start answers the number in E.164');
    const e164 = '+33612345678';
    const code = codeTo(e164, since);

    // On the login page's own host Lock checks the code with POST /passwordless/verify, then
    // verify_redirect (spec §3.4, §8.2), with the number spelled as Lock built it.
    await page.locator('.auth0-lock input[name="vcode"]').fill(code);
    const verify = page.waitForRequest(isPost('passwordless/verify'));
    await page.locator('.auth0-lock button.auth0-lock-submit').click();
    const checked = await verify;
    assert.deepEqual(
      { ...body(checked), client_id: undefined },
      { connection: 'sms', phone_number: '+330612345678', verification_code: code, client_id: undefined },
    );
    assert.equal((await checked.response())!.status(), 200);
    const claims = await expectSignedInAs(page, { phone_number: e164, phone_verified: true });
    assert.match(String(claims.sub), /^sms\|/);
    assert.deepEqual(await depnotes(suite.clientId), []);
    await ctx.close();
  });

  it('auth0-js on another site: passwordlessStart + passwordlessLogin for sms through /co/authenticate; parseHash has the number', async () => {
    const callback = suite.spa.page('auth0js.html');
    const cfg = { domain: suite.domain, clientId: spaClientId, connection: 'sms', scope: 'openid phone' };
    // Cross-origin login needs the cookie /co/authenticate sets from the app's site (spec §3.6).
    const ctx = await suite.context({ thirdPartyCookies: true });
    const page = await ctx.newPage();
    await page.goto(callback);
    const phone = uniquePhone();
    const since = twilio.messages.length;
    const start = page.waitForRequest(isPost('passwordless/start'));
    const started = await callPage<Outcome<Json>>(page, 'start', cfg, { phoneNumber: phone });
    assert.ok(started.ok, `passwordlessStart: ${JSON.stringify(started)}`);
    // auth0-js hands the app the start's answer camel-cased.
    assert.equal(started.ok.phoneNumber, phone);
    assert.deepEqual({ ...body(await start), authParams: undefined }, { client_id: spaClientId, connection: 'sms', phone_number: phone, send: 'code', authParams: undefined });
    const code = codeTo(phone, since);

    const co = page.waitForRequest(isPost('co/authenticate'));
    await navigation(page, (u) => u.href.startsWith(callback) && u.hash.length > 1, async () => {
      // The callback only fires on an error; success leaves the page (the context is destroyed).
      const res = await callPage<Outcome>(page, 'login', cfg, { phoneNumber: phone }, code).catch(() => undefined);
      if (res?.error) assert.fail(`passwordlessLogin: ${JSON.stringify(res)}`);
    }, 'passwordlessLogin → /co/authenticate → /authorize?login_ticket → back');
    const coBody = body(await co);
    assert.deepEqual(
      { realm: coBody.realm, username: coBody.username, otp: coBody.otp, credential_type: coBody.credential_type },
      { realm: 'sms', username: phone, otp: code, credential_type: PASSWORDLESS_OTP_GRANT },
    );

    // parseHash checks state and nonce, and the ID token's signature against the JWKS (spec §8.4).
    const parsed = await callPage<Outcome<{ idToken: string; accessToken: string; idTokenPayload: Json }>>(page, 'parse', cfg);
    assert.ok(parsed.ok, `parseHash: ${JSON.stringify(parsed)} at ${page.url()}`);
    assert.equal(parsed.ok.idTokenPayload.phone_number, phone);
    assert.equal(parsed.ok.idTokenPayload.phone_verified, true);
    const claims = await suite.verifyIdToken(parsed.ok.idToken, spaClientId, String(parsed.ok.idTokenPayload.nonce));
    assert.equal(claims.phone_number, phone);
    assert.match(String(claims.sub), /^sms\|/);
    const info = await suite.fetch(`${suite.issuer}userinfo`, { headers: { authorization: `Bearer ${parsed.ok.accessToken}` } });
    assert.equal(info.status, 200);
    assert.equal(((await info.json()) as Json).phone_number, phone);
    assert.ok((await suite.logs(`type:scoa AND client_id:"${spaClientId}"`)).length >= 1, 'a scoa log for the cross-origin login');
    await ctx.close();
  });

  it("Lock shows its own bad.phone_number text when Twilio refuses the number (21211), and stays on the phone screen", async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await page.goto(suite.loginUrl({ connection: 'sms', scope: 'openid phone' }));
    const before = twilio.attempts;
    twilio.fail({ status: 400, code: 21211 });
    const { shown, start } = await lockPhone(page, FRANCE, '6 98 76 54 32');
    assert.equal(body(start).phone_number, '+33698765432');
    const res = (await start.response())!;
    assert.deepEqual({ status: res.status(), body: await res.json() }, {
      status: 400,
      body: { error: 'bad.phone_number', error_description: "The 'To' number +33698765432 is not a valid phone number. (Code: 21211)" },
    });
    assert.equal(twilio.attempts, before + 1, 'Twilio was asked once (a 400 is not retried)');
    assert.equal(shown, LOCK_BAD_PHONE);
    assert.equal(await page.locator('.auth0-lock input[name="phoneNumber"]').count(), 1, 'Lock stays on its phone screen');
    await ctx.close();
  });
});
