import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { CookieJar, inputTags, inputValue, openLoginPage } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { queuedMessages, useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** @see issue 3 §2: the hosted login page, over HTTP with a cookie jar and a real SMTP sink. */

const CALLBACK = 'https://app.example.com/callback';
const APP_STATE = 'app-state-Zk3';
const FLAG = 'enforce_client_authentication_on_passwordless_start';

for (const { backend, skip } of await backendMatrix()) {
  describe(`hosted login page [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { clock: true });

    const webApp = (connection = 'email') =>
      createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', PASSWORDLESS_OTP_GRANT] }, { enableOn: connection });
    const logs = async (q: string) => (await mgmt(ctx.server, 'GET', `/logs?q=${encodeURIComponent(q)}&per_page=100`)) as Record<string, any>[];

    /** /authorize → 302 /login?state=…; then the login page. */
    async function openLogin(clientId: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
      return openLoginPage(ctx.server.baseUrl, { client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid email', state: APP_STATE, ...extra }, headers);
    }

    async function submitEmail(l: Awaited<ReturnType<typeof openLogin>>, email: string, extra: Record<string, string> = {}) {
      const res = await l.jar.postForm('/login/email', { state: l.state, _csrf: l.csrf, email, ...extra });
      assert.equal(res.status, 303, await res.clone().text());
      return new URL(res.headers.get('location')!, ctx.server.baseUrl);
    }

    async function signInWithCode(clientId: string, email: string) {
      const l = await openLogin(clientId);
      const next = await submitEmail(l, email);
      assert.equal(next.pathname, '/login/code');
      const code = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      const res = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code });
      return { ...l, res };
    }

    it('signs in with a code: email form → code form → 302 to the callback with a code and the app state', async () => {
      const { client } = await webApp();
      const email = uniqueEmail('page');
      const l = await openLogin(client.client_id);

      // The page's stable markup, headers and CSP (one nonce per response, used by the layout's style).
      const csp = l.page.headers.get('content-security-policy')!;
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce && l.html.includes(`<style nonce="${nonce}">`), csp);
      assert.match(csp, /default-src 'none'/);
      assert.equal(l.page.headers.get('cache-control'), 'no-store');
      assert.match(l.page.headers.get('content-type')!, /^text\/html/);
      assert.match(l.html, /<html lang="en">/);
      const [emailInput] = inputTags(l.html, 'email');
      for (const attr of ['type="email"', 'autocomplete="email"', 'data-testid="email"']) assert.ok(emailInput?.includes(attr), `${attr} in ${emailInput}`);
      assert.equal((l.html.match(/data-testid="submit"/g) ?? []).length, 1);
      assert.match(l.html, /<label for="email">Email address<\/label>/);
      assert.equal(l.jar.get('sesame_browser')?.length, 43);

      const next = await submitEmail(l, email);
      assert.equal(next.pathname, '/login/code');
      const codePage = await l.jar.fetch(next.pathname + next.search);
      const codeHtml = await codePage.text();
      assert.equal(codePage.status, 200);
      // One box that wraps only when it cannot fit, and then between parts, after @ or before a dot
      // (the browser suite checks the line breaks at 375 px).
      const breakable = email.split(/(?<=@)|(?=\.)/).map((part) => `<span>${part}</span>`).join('');
      assert.ok(codeHtml.includes(`<span class="address"><strong data-testid="address">${breakable}</strong>.</span> Enter it below`), codeHtml);
      const [codeInput] = inputTags(codeHtml, 'code');
      for (const attr of ['autocomplete="one-time-code"', 'inputmode="numeric"', 'data-testid="code"']) assert.ok(codeInput?.includes(attr), `${attr} in ${codeInput}`);
      assert.match(codeHtml, /<button type="submit" name="action" value="resend"/);
      assert.equal((codeHtml.match(/name="_csrf"/g) ?? []).length, 2, 'every form carries the CSRF token');
      assert.deepEqual(await (await l.jar.fetch(`/login/status?state=${l.state}`)).json(), { status: 'pending' });

      const code = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      const res = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code: `${code.slice(0, 3)} ${code.slice(3)}` });
      assert.equal(res.status, 302, await res.clone().text());
      const cb = new URL(res.headers.get('location')!);
      assert.equal(`${cb.origin}${cb.pathname}`, CALLBACK);
      assert.equal(cb.searchParams.get('state'), APP_STATE);
      assert.match(cb.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok(l.jar.get('sesame_session'), 'a login session cookie');

      // The waiting tab learns it is done; the finished transaction no longer takes codes.
      assert.deepEqual(await (await l.jar.fetch(`/login/status?state=${l.state}`)).json(), { status: 'done' });
      const done = await l.jar.fetch(`/login?state=${l.state}`);
      assert.match(await done.text(), /you can close this tab/);
      const again = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code });
      assert.equal(again.status, 400);
      assert.match(await again.text(), /role="alert">This sign-in has expired/);

      const [s] = await logs(`type:s AND client_id:${client.client_id}`);
      assert.equal(s?.user_name, email);
      assert.equal(s?.connection, 'email');
    });

    it('never leaves a depnote for a regular web app, enforcement flag off and on', async () => {
      for (const flag of [false, true]) {
        await mgmt(ctx.server, 'PATCH', '/tenants/settings', { flags: { [FLAG]: flag } });
        const { client } = await webApp();
        const { res } = await signInWithCode(client.client_id, uniqueEmail(`flag-${flag}`));
        assert.equal(res.status, 302, `flag ${flag}: ${await res.clone().text()}`);
        assert.ok(new URL(res.headers.get('location')!).searchParams.get('code'));
        assert.deepEqual(await logs(`type:depnote AND client_id:${client.client_id}`), [], `flag ${flag}`);
        const [cs] = await logs(`type:cs AND client_id:${client.client_id}`);
        assert.equal(cs?.details?.authenticated_with, 'transaction_state');
      }
      await mgmt(ctx.server, 'PATCH', '/tenants/settings', { flags: { [FLAG]: false } });
    });

    it('refuses a POST without the CSRF token, with another one, or from another browser, with a 403 page', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      const email = uniqueEmail('csrf');
      const queued = await queuedMessages(ctx.server);
      const attempts: Record<string, string>[] = [{ state: l.state, email }, { state: l.state, _csrf: 'x'.repeat(43), email }, { state: l.state, _csrf: '', email }];
      for (const fields of attempts) {
        const res = await l.jar.postForm('/login/email', fields);
        assert.equal(res.status, 403);
        const html = await res.text();
        assert.match(html, /role="alert">This form could not be verified/);
        assert.match(res.headers.get('content-security-policy') ?? '', /'nonce-/);
      }
      const code = await l.jar.postForm('/login/code', { state: l.state, code: '123456' });
      assert.equal(code.status, 403);
      // The right token from another browser (a leaked URL shows the form): refused as well.
      const elsewhere = await new CookieJar(ctx.server.baseUrl).postForm('/login/email', { state: l.state, _csrf: l.csrf, email });
      assert.equal(elsewhere.status, 403);
      // A message is queued in the request that starts it, so a count shows nothing was sent.
      assert.equal(await queuedMessages(ctx.server), queued, 'nothing was queued');
    });

    it("shows Auth0's messages for a wrong code and then for too many attempts", async () => {
      const { client } = await webApp();
      const email = uniqueEmail('wrong');
      const l = await openLogin(client.client_id);
      await submitEmail(l, email);
      const code = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 3; i++) {
        const res = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code: wrong });
        assert.equal(res.status, 400);
        const html = await res.text();
        // The page says what to do (it already shows the address); the API and logs keep Auth0's text.
        assert.match(html, /role="alert" id="code-error">That code is not right\. Check the latest email, or send a new code\.</);
        assert.ok(inputTags(html, 'code')[0]?.includes('aria-invalid="true"'));
      }
      const blocked = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code });
      assert.equal(blocked.status, 400);
      assert.match(await blocked.text(), /You&#39;ve reached the maximum number of attempts\. Please try to login again\./);
      const empty = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code: ' ' });
      assert.match(await empty.text(), /role="alert" id="code-error">Enter the code from the email\./);
      const failures = await logs(`type:f AND client_id:${client.client_id}`);
      assert.equal(failures.length, 4);
      assert.equal(failures.filter((f) => f.description === 'Wrong email or verification code.').length, 3);
      assert.ok(failures.every((f) => !JSON.stringify(f).includes(code)), 'no code in a log');
    });

    it('re-renders the email form for an invalid address', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      const res = await l.jar.postForm('/login/email', { state: l.state, _csrf: l.csrf, email: 'not-an-email' });
      assert.equal(res.status, 400);
      const html = await res.text();
      assert.match(html, /role="alert" id="email-error">Enter a valid email address\./);
      assert.ok(inputTags(html, 'email')[0]?.includes('value="not-an-email"'));
    });

    it('resends at most every 30 s: 429 before, a new code after', async () => {
      const { client } = await webApp();
      const email = uniqueEmail('resend');
      const l = await openLogin(client.client_id);
      await submitEmail(l, email);
      const first = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      // The same form again (a double submit) sends nothing new.
      await submitEmail(l, email);

      const early = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, action: 'resend' });
      assert.equal(early.status, 429);
      assert.ok(Number(early.headers.get('retry-after')) >= 29);
      assert.match(await early.text(), /role="alert">A new email can be sent 30 seconds after the previous one/);

      ctx.skew += 31_000;
      try {
        const res = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, action: 'resend' });
        assert.equal(res.status, 303);
        const next = new URL(res.headers.get('location')!, ctx.server.baseUrl);
        assert.equal(next.searchParams.get('resent'), '1');
        assert.match(await (await l.jar.fetch(next.pathname + next.search)).text(), /We sent you a new code\./);
        const second = extractCode(await ctx.sink.waitFor((m) => m.to === email && extractCode(m) !== first));
        assert.equal(ctx.sink.messages.filter((m) => m.to === email).length, 2, 'one email per send, none for the double submit');
        const ok = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code: second });
        assert.equal(ok.status, 302);
      } finally {
        ctx.skew = 0;
      }
    });

    it('speaks French from ui_locales, and from Accept-Language; ui_locales wins', async () => {
      const { client } = await webApp();
      const fromUi = await openLogin(client.client_id, { ui_locales: 'fr-FR en' });
      assert.match(fromUi.html, /<html lang="fr">/);
      assert.match(fromUi.html, /<label for="email">Adresse e-mail<\/label>/);
      const fromHeader = await openLogin(client.client_id, {}, { 'accept-language': 'de;q=1, fr-CA;q=0.8, en;q=0.5' });
      assert.match(fromHeader.html, /<html lang="fr">/);
      const wins = await openLogin(client.client_id, { ui_locales: 'en' }, { 'accept-language': 'fr' });
      assert.match(wins.html, /<html lang="en">/);

      const email = uniqueEmail('fr');
      await submitEmail(fromUi, email);
      const wrong = await fromUi.jar.postForm('/login/code', { state: fromUi.state, _csrf: fromUi.csrf, code: '00000x' });
      assert.match(await wrong.text(), /role="alert" id="code-error">Ce code n’est pas le bon\. Vérifiez le dernier e-mail reçu, ou envoyez un nouveau code\./);
      const forbidden = await fromUi.jar.postForm('/login/code', { state: fromUi.state, code: '1' });
      assert.match(await forbidden.text(), /<html lang="fr">[\s\S]*Requête refusée/);
      const expired = await fetch(`${ctx.server.baseUrl}/login?state=${'A'.repeat(43)}`, { headers: { 'accept-language': 'fr' } });
      assert.equal(expired.status, 400);
      assert.match(await expired.text(), /<html lang="fr">[\s\S]*Connexion expirée/);
    });

    it('offers a link or a choice as the connection allows (authentication_method)', async () => {
      const { client } = await webApp();
      const link = `links-${backend}`;
      const both = `both-${backend}`;
      await mgmt(ctx.server, 'POST', '/connections', { name: link, strategy: 'email', options: { authentication_method: 'link' }, enabled_clients: [client.client_id] });
      await mgmt(ctx.server, 'POST', '/connections', { name: both, strategy: 'email', options: { authentication_method: 'both' }, enabled_clients: [client.client_id] });

      const l = await openLogin(client.client_id, { connection: link });
      assert.equal(inputTags(l.html, 'send').length, 1);
      assert.ok(inputTags(l.html, 'send')[0]!.includes('type="hidden"') && inputTags(l.html, 'send')[0]!.includes('value="link"'));
      assert.match(l.html, /send you a link/);
      const email = uniqueEmail('link');
      const next = await submitEmail(l, email);
      assert.equal(next.pathname, '/login/link');
      const sent = await l.jar.fetch(next.pathname + next.search);
      const html = await sent.text();
      assert.match(html, /<h1>Check your inbox<\/h1>/);
      assert.match(html, /<form method="post" action="\/login\/relay">/);
      const [relay] = inputTags(html, 'relay_code');
      for (const attr of ['data-testid="relay-input"', 'autocomplete="off"']) assert.ok(relay?.includes(attr), `${attr} in ${relay}`);
      assert.equal((html.match(/name="_csrf"/g) ?? []).length, 2);
      assert.match(html, /<noscript>/);
      const nonce = /'nonce-([^']+)'/.exec(sent.headers.get('content-security-policy')!)?.[1];
      assert.ok(html.includes(`<script nonce="${nonce}">`), 'the status script runs by nonce');
      const mail = await ctx.sink.waitFor((m) => m.to === email);
      const url = new URL(/https?:\/\/\S+verify_redirect\?[^\s"<>]+/.exec(mail.text)![0].replace(/&amp;/g, '&'));
      assert.equal(url.searchParams.get('state'), l.state, 'the link names the transaction');
      assert.deepEqual(await logs(`type:cls AND client_id:${client.client_id}`).then((x) => x.length), 1);
      // The code page of a link sign-in is the "check your inbox" page.
      const codePage = await l.jar.fetch(`/login/code?state=${l.state}`);
      assert.equal(codePage.status, 303);

      const b = await openLogin(client.client_id, { connection: both });
      const radios = inputTags(b.html, 'send');
      assert.deepEqual(radios.map((r) => /value="(\w+)"/.exec(r)?.[1]), ['code', 'link']);
      assert.ok(radios.every((r) => r.includes('type="radio"')));
      assert.ok(radios[0]!.includes('checked') && !radios[1]!.includes('checked'), 'code by default');
      assert.match(b.html, /<fieldset><legend>How would you like to sign in\?<\/legend>/);
      const preselected = await openLogin(client.client_id, { connection: both, send: 'link' });
      assert.ok(inputTags(preselected.html, 'send')[1]!.includes('checked'), 'send=link preselects the link');
      const bad = await b.jar.postForm('/login/email', { state: b.state, _csrf: b.csrf, email: uniqueEmail(), send: 'sms' });
      assert.equal(bad.status, 400);
      assert.equal((await submitEmail(b, uniqueEmail('both'), { send: 'link' })).pathname, '/login/link');
    });

    it('pre-fills the email from login_hint', async () => {
      const { client } = await webApp();
      const l = await openLogin(client.client_id, { login_hint: 'hint@example.com' });
      assert.ok(inputTags(l.html, 'email')[0]?.includes('value="hint@example.com"'));
    });

    it('answers an unknown or expired state with a 400 page and no redirect', async () => {
      for (const state of ['', 'nope', 'A'.repeat(43)]) {
        const res = await fetch(`${ctx.server.baseUrl}/login?state=${state}`, { redirect: 'manual' });
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('location'), null);
        assert.match(await res.text(), /role="alert">This sign-in has expired or is no longer valid/);
      }
      const { client } = await webApp();
      const l = await openLogin(client.client_id);
      ctx.skew += 61 * 60_000;
      try {
        const res = await l.jar.postForm('/login/email', { state: l.state, _csrf: l.csrf, email: uniqueEmail() });
        assert.equal(res.status, 400);
        assert.match(await res.text(), /This sign-in has expired/);
        const status = await l.jar.fetch(`/login/status?state=${l.state}`);
        assert.equal(status.status, 400);
        assert.equal(((await status.json()) as { error: string }).error, 'invalid_request');
      } finally {
        ctx.skew = 0;
      }
    });

    it('sends a blocked user back to the application with an error', async () => {
      const { client } = await webApp();
      const email = uniqueEmail('blocked');
      const user = await mgmt(ctx.server, 'POST', '/users', { connection: 'email', email });
      // A blocked user is sent no code (issue 4 §4): the code is mailed first, the block comes after.
      const l = await openLogin(client.client_id);
      assert.equal((await submitEmail(l, email)).pathname, '/login/code');
      const code = extractCode(await ctx.sink.waitFor((m) => m.to === email));
      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(user.user_id)}`, { blocked: true });
      const res = await l.jar.postForm('/login/code', { state: l.state, _csrf: l.csrf, code });
      assert.equal(res.status, 302);
      const cb = new URL(res.headers.get('location')!);
      assert.equal(cb.searchParams.get('error'), 'unauthorized');
      assert.equal(cb.searchParams.get('state'), APP_STATE);
    });
  });
}

describe('hosted login page: per-IP send limit', () => {
  const ctx = useMailServer(undefined, { env: { SESAME_START_LIMIT_PER_HOUR: '2' } });

  it('counts the page’s sends with /passwordless/start’s and shows a friendly 429 page', async () => {
    const { client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', PASSWORDLESS_OTP_GRANT] });
    const res = await ctx.server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email: uniqueEmail(), send: 'code', authParams: {} });
    assert.equal(res.status, 200);
    const jar = new CookieJar(ctx.server.baseUrl);
    const authz = await jar.fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code' })}`);
    const html = await (await jar.fetch(authz.headers.get('location')!)).text();
    const fields = { state: inputValue(html, 'state')!, _csrf: inputValue(html, '_csrf')! };
    assert.equal((await jar.postForm('/login/email', { ...fields, email: uniqueEmail() })).status, 303);
    const limited = await jar.postForm('/login/email', { ...fields, email: uniqueEmail() });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.match(await limited.text(), /role="alert">Too many sign-in emails were requested from your network/);
  });
});
