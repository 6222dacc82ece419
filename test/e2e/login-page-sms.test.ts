import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { maskPhone } from '../../src/core/phone.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { pkcePair } from '../helpers/code-flow.ts';
import { CookieJar, inputTags, type LoginPage, openLoginPage } from '../helpers/cookie-jar.ts';
import { createClient } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { codeFromSms } from '../helpers/sms-servers.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

/**
 * Issue 5 follow-up: SMS sign-in on the hosted login page, over HTTP with a cookie jar, with the
 * local Twilio double on the other side of the wire: /authorize?connection=sms → phone step → code
 * step → the callback → /oauth/token (authorization_code with PKCE).
 */

const CALLBACK = 'https://app.example.com/callback';
const APP_STATE = 'app-state-Sms9';
const FLAG = 'enforce_client_authentication_on_passwordless_start';
const ROOMY = { per_prefix: { max: 1000 }, per_ip_range: { max: 1000 } };

type Login = LoginPage;

let mobiles = 0;
/** A valid French mobile number (06 1x xx xx xx) no other test of this run uses: `{ e164, national }`. */
function frenchMobile() {
  const rest = String(((process.pid * 7919 + ++mobiles * 104_729) % 9_000_000) + 1_000_000);
  return { e164: `+3361${rest}`, national: `06 1${rest.slice(0, 1)} ${rest.slice(1, 3)} ${rest.slice(3, 5)} ${rest.slice(5)}` };
}
/** The option selected in the page's country list, or undefined. */
const selectedCountry = (html: string) => /<option value="([A-Z]*)" selected>/.exec(html)?.[1];

/** `+1 415 555 2671` from `+14155552671`: a number as people type it. */
const spaced = (e164: string) => `${e164.slice(0, 2)} ${e164.slice(2, 5)} ${e164.slice(5, 8)} ${e164.slice(8)}`;

function helpers(t: ReturnType<typeof useSmsTenant>) {
  /** /authorize → 302 /login?state=…; then the login page. */
  async function openLogin(clientId: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Login> {
    return openLoginPage(t.server.baseUrl, { client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid phone', state: APP_STATE, ...extra }, headers);
  }
  const postPhone = (l: Login, phone_number: string, country?: string) =>
    l.jar.postForm('/login/phone', { state: l.state, _csrf: l.csrf, phone_number, ...(country !== undefined ? { country } : {}) });
  /** The phone step accepted: 303 to the code step. */
  async function submitPhone(l: Login, typed: string, country?: string) {
    const res = await postPhone(l, typed, country);
    assert.equal(res.status, 303, await res.clone().text());
    const next = new URL(res.headers.get('location')!, t.server.baseUrl);
    assert.equal(next.pathname, '/login/code');
    return next;
  }
  /** The text the Twilio double accepted for `e164` after `since` messages. */
  function textTo(e164: string, since: number) {
    const m = t.twilio.messages.slice(since).filter((x) => x.to === e164);
    assert.equal(m.length, 1, `one text to ${e164}: ${JSON.stringify(t.twilio.messages.slice(since).map((x) => x.to))}`);
    return m[0]!;
  }
  const postCode = (l: Login, fields: Record<string, string>) => l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, ...fields });
  /** The phone step's live preview, as its script asks for it. */
  async function preview(l: Login, country: string, phone_number: string) {
    const res = await l.jar.fetch(`/login/phone/preview?${new URLSearchParams({ state: l.state, country, phone_number })}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return ((await res.json()) as { international: string | null }).international;
  }
  return { openLogin, postPhone, submitPhone, textTo, postCode, preview };
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`hosted login page: SMS [${backend}]`, { skip }, () => {
    const t = useSmsTenant(backend);
    const { openLogin, postPhone, submitPhone, textTo, postCode, preview } = helpers(t);
    /** A regular web app (confidential) enabled on `connection` only. */
    const webApp = (connection = 'sms') =>
      createClient(t.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code'] }, { enableOn: connection });

    before(async () => {
      await t.connection('sms', t.twilioOptions({ fraud_guards: ROOMY }));
      await t.connection('sms-fr', t.twilioOptions({ fraud_guards: { ...ROOMY, allowed_countries: ['FR'] } }));
      await t.connection('sms-tight', t.twilioOptions({ fraud_guards: { ...ROOMY, per_number: { max: 1, window_seconds: 3600 } } }));
    });

    it('signs in by text: phone step → Twilio gets E.164 → code step → callback → ID token with phone_number', async () => {
      const { client, secret } = await webApp();
      const pkce = pkcePair();
      const l = await openLogin(client.client_id, { connection: 'sms', code_challenge: pkce.challenge, code_challenge_method: 'S256' });

      // The phone step: the email page's frame and conventions, a tel field instead of the email one.
      assert.match(l.html, /<html lang="en">/);
      assert.match(l.page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(l.page.headers.get('cache-control'), 'no-store');
      assert.deepEqual(inputTags(l.html, 'email'), []);
      const [phoneInput] = inputTags(l.html, 'phone_number');
      for (const attr of ['type="tel"', 'autocomplete="tel"', 'inputmode="tel"', 'data-testid="phone-input"', 'aria-describedby="phone-hint"']) {
        assert.ok(phoneInput?.includes(attr), `${attr} in ${phoneInput}`);
      }
      assert.match(l.html, /<form method="post" action="\/login\/phone">/);
      assert.match(l.html, /<label for="phone_number">Phone number<\/label>/);
      assert.match(l.html, /id="phone-hint">As you dial it in the country chosen above, or starting with \+ and the country code\.</);
      assert.match(l.html, /send you a code by text message to sign in to/);
      assert.equal((l.html.match(/data-testid="submit"/g) ?? []).length, 1);
      assert.equal(l.jar.get('sesame_browser')?.length, 43);

      const e164 = uniquePhone();
      const sent = t.twilio.messages.length;
      const next = await submitPhone(l, spaced(e164));
      const text = textTo(e164, sent);
      assert.equal(text.to, e164, 'Twilio got the number in E.164');

      const codePage = await l.jar.fetch(next.pathname + next.search);
      const codeHtml = await codePage.text();
      assert.equal(codePage.status, 200);
      const masked = maskPhone(e164).replace(/\*/g, '•');
      assert.ok(codeHtml.includes(`We sent a code by text message to <strong data-testid="phone-masked">${masked}</strong>.`), codeHtml);
      assert.ok(!codeHtml.includes(e164) && !codeHtml.includes(e164.slice(2, 8)), 'the number is masked but for its last digits');
      const [codeInput] = inputTags(codeHtml, 'code');
      for (const attr of ['autocomplete="one-time-code"', 'inputmode="numeric"', 'data-testid="code"']) assert.ok(codeInput?.includes(attr), `${attr} in ${codeInput}`);
      assert.match(codeHtml, /<button type="submit" name="action" value="resend"/);
      assert.match(codeHtml, />Use a different phone number</);
      assert.equal((codeHtml.match(/name="_csrf"/g) ?? []).length, 2, 'every form carries the CSRF token');

      const res = await postCode(l, { code: codeFromSms(text.body) });
      assert.equal(res.status, 302, await res.clone().text());
      const cb = new URL(res.headers.get('location')!);
      assert.equal(`${cb.origin}${cb.pathname}`, CALLBACK);
      assert.equal(cb.searchParams.get('state'), APP_STATE);
      const code = cb.searchParams.get('code') ?? '';
      assert.match(code, /^[A-Za-z0-9_-]{43}$/);

      const token = await t.server.post('/oauth/token', {
        grant_type: 'authorization_code', client_id: client.client_id, client_secret: secret, code, redirect_uri: CALLBACK, code_verifier: pkce.verifier,
      });
      const tokens = (await token.json()) as Record<string, string>;
      assert.equal(token.status, 200, JSON.stringify(tokens));
      const claims = decodeJwt(tokens.id_token!);
      assert.equal(claims.phone_number, e164);
      assert.equal(claims.phone_verified, true);
      assert.match(String(claims.sub), /^sms\|[0-9a-f]{24}$/);
      assert.equal(claims.email, undefined);

      const [s] = await t.logs('s', (x) => x.client_id === client.client_id);
      assert.equal(s?.user_name, e164);
      assert.equal(s?.connection, 'sms');
      const [cs] = await t.logs('cs', (x) => x.client_id === client.client_id);
      assert.equal(cs?.details?.authenticated_with, 'transaction_state');
      assert.ok(!JSON.stringify(cs).includes(codeFromSms(text.body)), 'no code in the log');
    });

    it('takes a national number with the country chosen in the form, without JavaScript: Twilio gets E.164', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      // The list: every region with a calling code, by name, none chosen without a language or tenant default.
      assert.match(l.html, /<label for="country">Country<\/label>/);
      assert.match(l.html, /<select id="country" name="country" autocomplete="country" data-testid="country"><option value="" selected>Choose a country<\/option>/);
      assert.equal((l.html.match(/<option value="[A-Z]{2}"/g) ?? []).length, 245);
      assert.match(l.html, /<option value="FR">France \(\+33\)<\/option>/);
      assert.match(l.html, /<input type="search" id="country-filter"[^>]* aria-controls="country"[^>]* hidden>/, 'the filter box waits for the script');
      assert.equal(selectedCountry(l.html), '');

      const fr = frenchMobile();
      let since = t.twilio.messages.length;
      await submitPhone(l, fr.national, 'FR');
      assert.equal(textTo(fr.e164, since).to, fr.e164);

      // A number with + is taken as it is, whatever the country says.
      const other = await openLogin(client.client_id);
      const us = uniquePhone();
      since = t.twilio.messages.length;
      await submitPhone(other, spaced(us), 'FR');
      textTo(us, since);
      // So is 00 and the calling code, as dialled from abroad.
      const abroad = await openLogin(client.client_id);
      const fr2 = frenchMobile();
      since = t.twilio.messages.length;
      await submitPhone(abroad, `00 ${fr2.e164.slice(1)}`, 'BE');
      textTo(fr2.e164, since);
    });

    it('refuses a national number that does not exist in the chosen country, in the page’s language, sending nothing', async () => {
      const { client } = await webApp();
      const attempts = t.twilio.attempts;
      const en = await openLogin(client.client_id);
      const cases: [string, string, RegExp][] = [
        ['06 12 34 56 78', 'US', /role="alert" id="phone-error">This phone number is not valid\. Check it and try again\.</],
        ['06 12', 'FR', /role="alert" id="phone-error">This phone number is not valid\./],
        ['06 12 34 56 78', 'ZZ', /role="alert" id="phone-error">Choose your country, or enter your number starting with \+ and the country code\.</],
        ['06 12 34 56 78', '', /role="alert" id="phone-error">Choose your country, or enter your number/],
      ];
      for (const [typed, country, message] of cases) {
        const res = await postPhone(en, typed, country);
        assert.equal(res.status, 400, `${typed} in ${country}`);
        const html = await res.text();
        assert.match(html, message);
        // The form comes back as it was sent: the number, and the country when it is one.
        assert.ok(inputTags(html, 'phone_number')[0]?.includes(`value="${typed}"`));
        assert.equal(selectedCountry(html), country === 'ZZ' ? '' : country);
      }
      const fr = await openLogin(client.client_id, { ui_locales: 'fr' });
      const bad = await postPhone(fr, '06 12', 'FR');
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /role="alert" id="phone-error">Ce numéro de téléphone n’est pas valide\. Vérifiez-le et réessayez\.</);
      assert.equal(t.twilio.attempts, attempts, 'nothing reached Twilio');
    });

    it('starts the list at the tenant’s default_phone_country, else the browser’s region; one allowed country is the whole list', async () => {
      const { client } = await webApp();
      const chosen = async (acceptLanguage: string) => selectedCountry((await openLogin(client.client_id, {}, { 'accept-language': acceptLanguage })).html);
      assert.equal(await chosen('fr-BE,fr;q=0.9,en;q=0.5'), 'BE');
      assert.equal(await chosen('fr'), 'FR', 'a language alone implies its likely region');
      assert.equal(await chosen('en;q=0.5, de-CH'), 'CH', 'by q-value');
      assert.equal(await chosen('*'), '');

      for (const bad of ['ZZ', 'fr', 'FRA', 42]) {
        const res = await mgmtCall(t.server, 'PATCH', '/tenants/settings', { default_phone_country: bad });
        assert.equal(res.status, 400, `${bad}: ${JSON.stringify(res.json)}`);
      }
      const set = await mgmt(t.server, 'PATCH', '/tenants/settings', { default_phone_country: 'GB' });
      try {
        assert.equal(set.default_phone_country, 'GB');
        assert.equal((await mgmt(t.server, 'GET', '/tenants/settings')).default_phone_country, 'GB');
        assert.equal(await chosen('fr-FR'), 'GB', 'the tenant’s setting wins over the browser');
      } finally {
        const cleared = await mgmt(t.server, 'PATCH', '/tenants/settings', { default_phone_country: null });
        assert.equal(cleared.default_phone_country, undefined);
      }
      assert.equal(await chosen('fr-FR'), 'FR');

      // A connection that allows France only lists France, chosen, and needs no filter.
      const { client: frOnly } = await webApp('sms-fr');
      const l = await openLogin(frOnly.client_id, { connection: 'sms-fr', ui_locales: 'fr' }, { 'accept-language': 'en-US' });
      assert.match(l.html, /<label for="country">Pays<\/label>\n<select [^>]*><option value="FR" selected>France \(\+33\)<\/option><\/select>/);
      assert.ok(!l.html.includes('id="country-filter"'));
    });

    it('previews the number in international form exactly when the form would take it (the script’s live preview)', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id, { ui_locales: 'fr' });
      assert.match(l.html, /<div id="phone-preview" role="status" aria-live="polite" data-testid="phone-preview" data-url="\/login\/phone\/preview\?state=[\w-]+" data-text="Nous enverrons le code au \{phone\}\."><\/div>/);
      assert.match(l.html, /<script nonce="[^"]+">\(function\(\)\{\nvar sel=document\.getElementById\('country'\)/);
      assert.equal(await preview(l, 'FR', '06 12 34 56 78'), '+33 6 12 34 56 78');
      assert.equal(await preview(l, 'FR', '06 12'), null, 'not yet a number');
      assert.equal(await preview(l, 'US', '06 12 34 56 78'), null, 'not a number there');
      assert.equal(await preview(l, '', '+1 (415) 555-2671'), '+1 415 555 2671');
      assert.equal(await preview(l, 'ZZ', '0612345678'), null);
      const gone = await l.jar.fetch(`/login/phone/preview?${new URLSearchParams({ state: 'x'.repeat(43), country: 'FR', phone_number: '0612345678' })}`);
      assert.equal(gone.status, 400);
      assert.equal(((await gone.json()) as { error: string }).error, 'invalid_request');
    });

    it('picks the client’s sms connection when it has no email one; email stays the default otherwise', async () => {
      const { client } = await webApp('sms');
      const only = await openLogin(client.client_id);
      assert.equal(inputTags(only.html, 'phone_number').length, 1);
      const { client: both } = await webApp('email');
      await t.server.services.store.setEnabledClients((await t.server.services.store.getConnectionByName('sms'))!.id, [{ client_id: both.client_id, status: true }]);
      const emailFirst = await openLogin(both.client_id);
      assert.equal(inputTags(emailFirst.html, 'email').length, 1);
      assert.deepEqual(inputTags(emailFirst.html, 'phone_number'), []);
      const named = await openLogin(both.client_id, { connection: 'sms', login_hint: '+33 6 12 34 56 78' });
      assert.ok(inputTags(named.html, 'phone_number')[0]?.includes('value="+33 6 12 34 56 78"'), 'login_hint pre-fills a number');
      // An sms connection the client does not have goes back to the app, as for email.
      const res = await new CookieJar(t.server.baseUrl).fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code', state: APP_STATE, connection: 'sms-fr' })}`);
      assert.equal(res.status, 302);
      const back = new URL(res.headers.get('location')!);
      assert.equal(back.searchParams.get('error'), 'invalid_request');
      assert.equal(back.searchParams.get('error_description'), 'the connection is not enabled for this client');
    });

    it('shows an invalid number on the phone page again (HTML, both bad.phone_number cases), sending nothing', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      const sent = t.twilio.attempts;
      const cases: [string, RegExp][] = [
        ['415 555 2671', /role="alert" id="phone-error">Choose your country, or enter your number starting with \+ and the country code\.</],
        ['+1 23', /role="alert" id="phone-error">This phone number is not valid\. Check it and try again\.</],
      ];
      for (const [typed, message] of cases) {
        const res = await postPhone(l, typed);
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        const html = await res.text();
        assert.match(html, message);
        const [input] = inputTags(html, 'phone_number');
        assert.ok(input?.includes(`value="${typed}"`), `the number stays: ${input}`);
        assert.ok(input?.includes('aria-invalid="true"') && input.includes('aria-describedby="phone-error phone-hint"'), input);
      }
      assert.equal(t.twilio.attempts, sent, 'nothing reached Twilio');
      // Twilio's own refusal of the number (21211) reads the same.
      t.twilio.fail({ status: 400, code: 21211 });
      const refused = await postPhone(l, uniquePhone());
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /role="alert" id="phone-error">This phone number is not valid\./);
    });

    it('says so when the country is not allowed, or the provider failed, and the form still works after', async () => {
      const { client } = await webApp('sms-fr');
      const l = await openLogin(client.client_id, { connection: 'sms-fr' });
      const us = await postPhone(l, uniquePhone());
      assert.equal(us.status, 400);
      assert.match(await us.text(), /role="alert" id="phone-error">Phone numbers from this country cannot be used to sign in here\.</);

      const { client: other } = await webApp();
      const p = await openLogin(other.client_id);
      t.twilio.fail({ status: 400, code: 21610 });
      const failed = await postPhone(p, uniquePhone());
      assert.equal(failed.status, 400);
      assert.match(await failed.text(), /role="alert" id="phone-error">We could not send the text message\. Please try again\.</);
      const [fn] = await t.logs('fn', (x) => x.client_id === other.client_id);
      assert.ok(fn, 'the failed send is logged');
      // Nothing was recorded: the same number goes through now.
      const e164 = uniquePhone();
      const since = t.twilio.messages.length;
      await submitPhone(p, e164);
      textTo(e164, since);
    });

    it('shows a tripped guard as a 429 page that says how long to wait, in the page’s language', async () => {
      const { client } = await webApp('sms-tight');
      const e164 = uniquePhone();
      const first = await openLogin(client.client_id, { connection: 'sms-tight' });
      await submitPhone(first, e164);
      const again = await openLogin(client.client_id, { connection: 'sms-tight' });
      const res = await postPhone(again, e164);
      assert.equal(res.status, 429);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
      const html = await res.text();
      assert.ok(html.includes(`role="alert" id="phone-error">Too many codes were requested. Please try again in ${Math.ceil(retryAfter / 60)} min.<`), html);
      const [limit] = await t.logs('limit_phone', (x) => x.client_id === client.client_id);
      assert.equal(limit?.details?.guard, 'per_number');

      const fr = await openLogin(client.client_id, { connection: 'sms-tight', ui_locales: 'fr' });
      const frRes = await postPhone(fr, e164);
      assert.equal(frRes.status, 429);
      assert.match(await frRes.text(), /<html lang="fr">[\s\S]*role="alert" id="phone-error">Trop de codes ont été demandés\. Veuillez réessayer dans \d+ min\.</);
    });

    it('works with the enforcement flag on, and never leaves a depnote', async () => {
      await mgmt(t.server, 'PATCH', '/tenants/settings', { flags: { [FLAG]: true } });
      try {
        const { client } = await webApp();
        const l = await openLogin(client.client_id, { connection: 'sms' });
        const e164 = uniquePhone();
        const since = t.twilio.messages.length;
        await submitPhone(l, e164);
        const res = await postCode(l, { code: codeFromSms(textTo(e164, since).body) });
        assert.equal(res.status, 302, await res.clone().text());
        assert.ok(new URL(res.headers.get('location')!).searchParams.get('code'));
        assert.deepEqual(await t.logs('depnote', (x) => x.client_id === client.client_id), []);
        const [cs] = await t.logs('cs', (x) => x.client_id === client.client_id);
        assert.equal(cs?.details?.authenticated_with, 'transaction_state');
      } finally {
        await mgmt(t.server, 'PATCH', '/tenants/settings', { flags: { [FLAG]: false } });
      }
    });

    it("shows Auth0's SMS texts for a wrong code and too many attempts; resends after 30 s only; ignores send=link", async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id, { send: 'link' });
      const e164 = uniquePhone();
      let since = t.twilio.messages.length;
      await submitPhone(l, e164);
      // The same form again (a double submit) sends nothing new.
      await submitPhone(l, spaced(e164));
      const first = codeFromSms(textTo(e164, since).body);

      const empty = await postCode(l, { code: ' ' });
      assert.match(await empty.text(), /role="alert" id="code-error">Enter the code from the text message\.</);
      const early = await postCode(l, { action: 'resend' });
      assert.equal(early.status, 429);
      assert.ok(Number(early.headers.get('retry-after')) >= 29);
      assert.match(await early.text(), /role="alert" id="code-error">A new code can be sent 30 seconds after the previous one\.</);

      t.advance(31_000);
      since = t.twilio.messages.length;
      const resent = await postCode(l, { action: 'resend' });
      assert.equal(resent.status, 303);
      const next = new URL(resent.headers.get('location')!, t.server.baseUrl);
      assert.equal(next.searchParams.get('resent'), '1');
      assert.match(await (await l.jar.fetch(next.pathname + next.search)).text(), /We sent you a new code\./);
      const second = codeFromSms(textTo(e164, since).body);

      const wrong = ['000000', '111111', '222222'].find((c) => c !== second && c !== first)!;
      for (let i = 0; i < 3; i++) {
        const res = await postCode(l, { code: wrong });
        assert.equal(res.status, 400);
        assert.match(await res.text(), /role="alert" id="code-error">That code is not right\. Check the latest text message, or send a new code\.</);
      }
      const exhausted = await postCode(l, { code: second });
      assert.equal(exhausted.status, 400);
      assert.match(await exhausted.text(), /You&#39;ve reached the maximum number of attempts\. Please try to login again\./);
      const failures = await t.logs('f', (x) => x.client_id === client.client_id);
      assert.equal(failures.length, 4);
      assert.equal(failures.at(-1)?.description, 'Wrong phone number or verification code.');
      assert.ok(failures.every((f) => f.user_name === e164 && !JSON.stringify(f).includes(second)));
    });

    it('speaks French: phone step, errors and code step', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id, { ui_locales: 'fr' });
      assert.match(l.html, /<html lang="fr">/);
      assert.match(l.html, /<label for="phone_number">Numéro de téléphone<\/label>/);
      assert.match(l.html, /Tel que vous le composez dans le pays choisi ci-dessus, ou en commençant par \+ et l’indicatif du pays/);
      const bad = await postPhone(l, '0612345678');
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /role="alert" id="phone-error">Choisissez votre pays, ou saisissez votre numéro en commençant par \+ et l’indicatif du pays\.</);
      const e164 = uniquePhone();
      const next = await submitPhone(l, e164);
      const codeHtml = await (await l.jar.fetch(next.pathname + next.search)).text();
      assert.match(codeHtml, /Nous avons envoyé un code par SMS au <strong data-testid="phone-masked">/);
      assert.match(codeHtml, />Utiliser un autre numéro de téléphone</);
      const wrong = await postCode(l, { code: '00000x' });
      assert.match(await wrong.text(), /role="alert" id="code-error">Ce code n’est pas le bon\. Vérifiez le dernier SMS reçu, ou envoyez un nouveau code\.</);
    });

    it('refuses a phone POST without the CSRF token or from another browser, with a 403 page', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      const attempts = t.twilio.attempts;
      const noToken = await l.jar.postForm('/login/phone', { state: l.state, phone_number: uniquePhone() });
      assert.equal(noToken.status, 403);
      assert.match(await noToken.text(), /role="alert">This form could not be verified/);
      const elsewhere = await new CookieJar(t.server.baseUrl).postForm('/login/phone', { state: l.state, _csrf: l.csrf, phone_number: uniquePhone() });
      assert.equal(elsewhere.status, 403);
      // The email step's form on an sms transaction sends nothing: back to the phone step.
      const email = await l.jar.postForm('/login/email', { state: l.state, _csrf: l.csrf, email: 'a@example.com' });
      assert.equal(email.status, 303);
      assert.equal(new URL(email.headers.get('location')!, t.server.baseUrl).pathname, '/login');
      assert.equal(t.twilio.attempts, attempts, 'nothing was sent');
    });
  });
}
