import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { type BrowserSuite, type Outcome, callPage, startBrowserSuite } from '../helpers/browser-suite.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { navigation, submitCode, submitEmail } from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

interface SpaTokens { user: { email?: string }; accessToken: string; idToken: string; refreshToken: string | null }
interface Redeemed { status: number; body: Record<string, unknown> }

/**
 * Issue 3 §5, §6 in Chromium: single-page apps on another site (http://127.0.0.1:<port>) with the
 * SDKs as shipped: auth0-js embedded passwordless through /co/authenticate, @auth0/auth0-spa-js
 * through the hosted page, refresh-token rotation and reuse detection, logout.
 */
describe('single-page apps with auth0-js and auth0-spa-js in Chromium', { skip: browserUnavailable() }, () => {
  let suite: BrowserSuite;
  let clientId: string;
  let spaPage: string;
  let cfg: { domain: string; clientId: string };

  before(async () => {
    suite = await startBrowserSuite();
    spaPage = suite.spa.page('spa.html');
    const { client } = await createClient(suite.srv, {
      app_type: 'spa',
      grant_types: ['authorization_code', 'implicit', 'refresh_token', PASSWORDLESS_OTP_GRANT],
      callbacks: [suite.spa.page('auth0js.html'), spaPage],
      allowed_origins: [suite.spa.origin],
      web_origins: [suite.spa.origin],
      allowed_logout_urls: [spaPage],
      cross_origin_authentication: true,
      refresh_token: {
        rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0, token_lifetime: 2_592_000, infinite_token_lifetime: false,
        idle_token_lifetime: 1_296_000, infinite_idle_token_lifetime: false,
      },
    });
    clientId = client.client_id;
    cfg = { domain: suite.domain, clientId };
  });
  after(async () => suite?.close());

  const noDepnote = async () => assert.deepEqual(await suite.logs(`type:depnote AND client_id:"${clientId}"`), []);
  const fromSesame = (u: URL) => u.origin === new URL(suite.issuer).origin;

  async function userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const res = await suite.fetch(`${suite.issuer}userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(res.status, 200, `GET /userinfo: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** auth0-spa-js: loginWithRedirect → hosted page → code → back → handleRedirectCallback. */
  async function spaLogin(page: Page, email: string, spaCfg: Record<string, unknown>): Promise<SpaTokens> {
    await page.goto(spaPage);
    await navigation(page, (u) => fromSesame(u) && u.pathname.startsWith('/login'), () => callPage(page, 'login', spaCfg).catch(() => {}), 'loginWithRedirect → hosted page');
    await submitEmail(page, email);
    const code = extractCode(await suite.mailTo(email));
    await navigation(page, (u) => u.href.startsWith(spaPage), () => submitCode(page, code), 'code → back to the SPA');
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('error'), null, `Sesame answered an error: ${back.href}`);
    const res = await callPage<Outcome<SpaTokens>>(page, 'callback', spaCfg);
    assert.ok(res.ok, `handleRedirectCallback: ${JSON.stringify(res)}`);
    return res.ok;
  }

  /** auth0-js on the app's page: passwordlessStart, the mailed code, passwordlessLogin until the callback. */
  async function auth0jsLogin(page: Page, email: string): Promise<void> {
    const callback = suite.spa.page('auth0js.html');
    await page.goto(callback);
    const started = await callPage<Outcome>(page, 'start', cfg, { email });
    assert.ok(started.ok, `passwordlessStart: ${JSON.stringify(started)}`);
    const code = extractCode(await suite.mailTo(email));
    await navigation(page, (u) => u.href.startsWith(callback) && u.hash.length > 1, async () => {
      // The callback only fires on an error; success leaves the page (the context is destroyed).
      const res = await callPage<Outcome>(page, 'login', cfg, { email }, code).catch(() => undefined);
      if (res?.error) assert.fail(`passwordlessLogin: ${JSON.stringify(res)}`);
    }, 'passwordlessLogin → /co/authenticate → /authorize?login_ticket → back');
  }

  it('auth0-js: passwordlessStart + passwordlessLogin through /co/authenticate, parseHash validates the tokens, no depnote', async () => {
    // Cross-origin login needs the cookie /co/authenticate sets from the app's site (spec §3.6).
    const ctx = await suite.context({ thirdPartyCookies: true });
    const page = await ctx.newPage();
    const email = uniqueEmail('auth0js');
    await auth0jsLogin(page, email);

    // parseHash checks state and nonce, and the ID token's signature against the JWKS (spec §8.4).
    const parsed = await callPage<Outcome<{ idToken: string; accessToken: string; idTokenPayload: { nonce: string } }>>(page, 'parse', cfg);
    assert.ok(parsed.ok, `parseHash: ${JSON.stringify(parsed)} at ${page.url()}`);
    const claims = await suite.verifyIdToken(parsed.ok.idToken, clientId, parsed.ok.idTokenPayload.nonce);
    assert.equal(claims.email, email);
    assert.equal((await userinfo(parsed.ok.accessToken)).email, email);
    await noDepnote();
    assert.ok((await suite.logs(`type:scoa AND client_id:"${clientId}"`)).length >= 1, 'a scoa log for the cross-origin login');
    await ctx.close();
  });

  it('auth0-js where the browser blocks third-party cookies: a clear error redirect, not a hang', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await auth0jsLogin(page, uniqueEmail('auth0js-3pc'));
    const answer = new URLSearchParams(new URL(page.url()).hash.slice(1));
    assert.ok(answer.get('error'), `an error for the app: ${page.url()}`);
    assert.match(answer.get('error_description') ?? '', /cookie/i, 'the description says what went wrong');
    assert.equal(answer.get('access_token'), null);
    const parsed = await callPage<Outcome>(page, 'parse', cfg);
    assert.equal(parsed.error, answer.get('error'), 'auth0-js reports it to the app');
    await ctx.close();
  });

  it('auth0-spa-js: loginWithRedirect → hosted page → code → handleRedirectCallback, getUser and getTokenSilently, no depnote', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('spajs');
    const tokens = await spaLogin(page, email, cfg);
    assert.equal(tokens.user.email, email);
    const claims = await suite.verifyIdToken(tokens.idToken, clientId);
    assert.equal(claims.email, email);
    assert.equal((await userinfo(tokens.accessToken)).email, email);
    await noDepnote();
    await ctx.close();
  });

  it('rotates refresh tokens (offline_access) and answers reuse of a rotated token by revoking the family', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    const email = uniqueEmail('refresh');
    const rtCfg = { ...cfg, refresh: true, scope: 'openid profile email offline_access' };
    const first = await spaLogin(page, email, rtCfg);
    assert.ok(first.refreshToken, 'a refresh token for offline_access');

    const renewed = await callPage<Outcome<{ accessToken: string; idToken: string; refreshToken: string }>>(page, 'renew', rtCfg);
    assert.ok(renewed.ok, `getTokenSilently (refresh_token grant): ${JSON.stringify(renewed)}`);
    assert.ok(renewed.ok.refreshToken && renewed.ok.refreshToken !== first.refreshToken, 'rotation hands out a new refresh token');
    assert.notEqual(renewed.ok.accessToken, first.accessToken);
    assert.equal((await suite.verifyIdToken(renewed.ok.idToken, clientId)).email, email);

    // Reuse of the rotated-out token (leeway 0): refused, and the whole family is revoked.
    const reuse = await callPage<Redeemed>(page, 'redeem', rtCfg, first.refreshToken);
    assert.deepEqual(reuse, { status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } });
    const latest = await callPage<Redeemed>(page, 'redeem', rtCfg, renewed.ok.refreshToken);
    assert.deepEqual(latest, { status: 403, body: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } }, 'the newest token of the family is revoked too');
    await ctx.close();
  });

  it('logs out (/v2/logout with returnTo), after which prompt=none answers login_required', async () => {
    // Third-party cookies on, so auth0-spa-js's prompt=none iframe carries the session cookie.
    const ctx = await suite.context({ thirdPartyCookies: true });
    const page = await ctx.newPage();
    const email = uniqueEmail('logout');
    await spaLogin(page, email, cfg);

    const silent = (state: string) => `${suite.issuer}authorize?${new URLSearchParams({
      client_id: clientId, redirect_uri: spaPage, response_type: 'code', scope: 'openid', state, prompt: 'none',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM', code_challenge_method: 'S256',
    })}`;
    // The login session answers prompt=none at the top level and in auth0-spa-js's iframe (web_message).
    await page.goto(silent('sso'));
    assert.ok(new URL(page.url()).searchParams.get('code'), `prompt=none with a session: ${page.url()}`);
    const viaIframe = await callPage<Outcome>(page, 'renew', cfg);
    assert.ok(viaIframe.ok, `getTokenSilently with a session: ${JSON.stringify(viaIframe)}`);

    await navigation(page, (u) => u.href === spaPage || u.href.startsWith(`${spaPage}?`), () => callPage(page, 'logout', cfg, spaPage).catch(() => {}), 'logout → returnTo');
    await page.goto(silent('after-logout'));
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('error'), 'login_required', back.href);
    assert.equal(back.searchParams.get('state'), 'after-logout');
    const after = await callPage<Outcome>(page, 'renew', cfg);
    assert.equal(after.error, 'login_required', JSON.stringify(after));
    await ctx.close();
  });
});
