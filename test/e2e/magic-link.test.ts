import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TransactionDoc, artifactId } from '../../src/core/artifacts.ts';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { CookieJar, hiddenFields } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';

/** @see issue 3 §4: scanner-safe, browser-bound magic links with relay codes. */

const CALLBACK = 'https://app.example.com/callback';
const GRANTS = [PASSWORDLESS_OTP_GRANT, 'authorization_code'];

const relayCodeOf = (html: string) => /data-testid="relay-code"[^>]*>([A-Z2-9]{3}-[A-Z2-9]{3})</.exec(html)?.[1];
const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];

for (const { backend, skip } of await backendMatrix()) {
  describe(`magic links [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { clock: true });

    /** A new browser, as far as cookies go; `call` and `postForm` with `null` use a throwaway one (a mail scanner). */
    const newJar = () => new CookieJar(ctx.server.baseUrl, { 'user-agent': 'magic-link-test' });
    const call = (jar: CookieJar | null, path: string, init: RequestInit = {}) => (jar ?? newJar()).fetch(path, init);
    const postForm = (jar: CookieJar | null, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      (jar ?? newJar()).postForm(path, fields, headers);

    /** The link of the latest message to `email`, pointed at the test server. */
    const linkFor = async (email: string, after = 0): Promise<URL> => {
      const mail = await ctx.sink.waitFor((m) => m.to === email && ctx.sink.messages.filter((x) => x.to === email).indexOf(m) >= after);
      const found = /https?:\/\/[^\s)"<>]+\/passwordless\/verify_redirect\?[^\s)"<>]+/.exec(mail.text)?.[0];
      assert.ok(found, `no magic link in: ${mail.text}`);
      const url = new URL(found);
      return new URL(`${url.pathname}${url.search}`, ctx.server.baseUrl);
    };
    /** Follows the link like a browser: GET the page, then submit its form. */
    const openAndSubmit = async (jar: CookieJar | null, link: URL) => {
      const page = await call(jar, link.pathname + link.search);
      assert.equal(page.status, 200);
      return postForm(jar, '/passwordless/verify_redirect', hiddenFields(await page.text()));
    };
    const logs = async (type: string, clientId: string) =>
      (await ctx.server.services.store.searchLogs({ query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: type, wildcard: false }, { kind: 'term', fields: ['client_id'], value: clientId, wildcard: false }] }, page: 0, perPage: 50, sort: { field: 'date', dir: 'desc' } })).items;

    /** A link started by an API call (a backend with its secret): no transaction, no binding. */
    const apiLink = async (authParams: Record<string, string> = {}, fields: Parameters<typeof createClient>[1] = { app_type: 'regular_web' }) => {
      const { client, secret } = await createClient(ctx.server, { callbacks: [CALLBACK], grant_types: GRANTS, ...fields });
      const email = uniqueEmail('link');
      const res = await ctx.server.post('/passwordless/start', {
        client_id: client.client_id, ...(fields.app_type === 'regular_web' ? { client_secret: secret } : {}), connection: 'email', email, send: 'link',
        authParams: { redirect_uri: CALLBACK, response_type: 'code', state: 'app-state', scope: 'openid email', ...authParams },
      });
      assert.equal(res.status, 200, await res.clone().text());
      return { client, secret, email, link: await linkFor(email) };
    };

    /** A browser sign-in: /authorize in `jar`, then the login page's start (authenticated by the transaction state). */
    const browserLink = async (jar: CookieJar) => {
      const { client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: GRANTS });
      const q = new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid email', state: 'app-state-b' });
      const authorize = await call(jar, `/authorize?${q}`);
      assert.equal(authorize.status, 302);
      const state = new URL(authorize.headers.get('location')!, ctx.server.baseUrl).searchParams.get('state')!;
      const email = uniqueEmail('bound');
      const res = await ctx.server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email, send: 'link', authParams: { state } });
      assert.equal(res.status, 200, await res.clone().text());
      const txId = artifactId(ctx.server.services, 'transaction', state);
      const tx = async () => (await ctx.server.services.store.getArtifact<TransactionDoc>('transaction', txId, Date.now() + ctx.skew))!.doc;
      return { client, email, state, tx, csrf: (await tx()).csrf, link: await linkFor(email) };
    };

    it('survives scanners: GETs and HEADs consume nothing, the explicit POST signs in and redirects with a code', async () => {
      const { client, email, link } = await apiLink();
      assert.equal(link.searchParams.get('state'), 'app-state');
      assert.equal(link.searchParams.get('client_id'), client.client_id);
      assert.equal(link.searchParams.get('email'), email);
      let html = '';
      for (let i = 0; i < 3; i++) {
        const res = await call(null, link.pathname + link.search);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
        html = await res.text();
      }
      for (let i = 0; i < 2; i++) {
        const res = await call(null, link.pathname + link.search, { method: 'HEAD' });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(await res.text(), '');
      }
      // Not the browser that asked: no auto-submit, an explicit button.
      assert.doesNotMatch(html, /<script/);
      assert.match(html, /<form id="link-form" method="post" action="\/passwordless\/verify_redirect">/);
      assert.match(html, /<button type="submit"[^>]*>Continue<\/button>/);
      assert.equal(hiddenFields(html).verification_code, link.searchParams.get('verification_code'));

      const browser = newJar();
      const done = await postForm(browser, '/passwordless/verify_redirect', hiddenFields(html));
      assert.equal(done.status, 302);
      const location = new URL(done.headers.get('location')!);
      assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
      assert.match(location.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(location.searchParams.get('state'), 'app-state');
      assert.ok(browser.get('sesame_session'), 'the login session cookie is set');
      assert.equal((await logs('s', client.client_id)).length, 1);

      // Single use: the same link again is refused with a page that says what to do.
      const again = await postForm(newJar(), '/passwordless/verify_redirect', hiddenFields(html));
      assert.equal(again.status, 400);
      assert.match(again.headers.get('content-type') ?? '', /text\/html/);
      assert.match(alertOf(await again.text()) ?? '', /not valid any more.*Request a new link/);
    });

    it('refuses a cross-site POST of a link\'s fields (login CSRF, issue 10 §4): no session, no code, the link still works', async () => {
      // The attacker requested this link for their own address and posts its fields from their site.
      const { link } = await apiLink();
      const page = await call(null, link.pathname + link.search);
      assert.equal(page.status, 200, 'the scanner-safe GET is unchanged');
      const fields = hiddenFields(await page.text());
      const refusals: Record<string, string>[] = [
        { origin: 'https://evil.example' },
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        { origin: ctx.server.baseUrl, 'sec-fetch-site': 'cross-site' },
        { origin: 'null' },
        { origin: '' }, // none at all: a browser always sends one with a form POST
      ];
      for (const headers of refusals) {
        const victim = newJar();
        const res = await victim.fetch('/passwordless/verify_redirect', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(fields).toString(),
        });
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(res.headers.get('location'), null);
        assert.equal(victim.get('sesame_session'), undefined, 'no session for the victim');
        assert.match(alertOf(await res.text()) ?? '', /only be finished from its own confirmation page/);
      }
      // Sec-Fetch-Site: same-origin alone is enough (what Chromium sends from Sesame's own page).
      const browser = newJar();
      const done = await browser.fetch('/passwordless/verify_redirect', {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams(fields).toString(),
      });
      assert.equal(done.status, 302, 'nothing was spent by the refused posts');
      assert.ok(browser.get('sesame_session'));
    });

    it('keeps only the latest link: a newer start invalidates the earlier one', async () => {
      const { client, secret, email, link: first } = await apiLink();
      const res = await ctx.server.post('/passwordless/start', { client_id: client.client_id, client_secret: secret, connection: 'email', email, send: 'link', authParams: { redirect_uri: CALLBACK, response_type: 'code' } });
      assert.equal(res.status, 200);
      const second = await linkFor(email, 1);
      assert.notEqual(second.searchParams.get('verification_code'), first.searchParams.get('verification_code'));
      const old = await openAndSubmit(null, first);
      assert.equal(old.status, 400);
      assert.match(alertOf(await old.text()) ?? '', /newer link/);
      const fresh = await openAndSubmit(null, second);
      assert.equal(fresh.status, 302);
    });

    it('refuses an expired link with a page and an f log', async () => {
      const { client, email, link } = await apiLink();
      const page = await call(null, link.pathname + link.search);
      const fields = hiddenFields(await page.text());
      ctx.skew = 181_000; // the email connection's codes live 180 s (spec §3.2)
      try {
        const res = await postForm(null, '/passwordless/verify_redirect', fields);
        assert.equal(res.status, 400);
        assert.match(alertOf(await res.text()) ?? '', /expired.*Request a new link/);
      } finally {
        ctx.skew = 0;
      }
      const [f] = await logs('f', client.client_id);
      assert.ok(f, 'an f log is written');
      assert.equal(f.connection, 'email');
      assert.equal(f.user_name, email);
      assert.ok(f.ip);
      assert.equal(f.user_agent, 'magic-link-test');
      assert.ok(!JSON.stringify(f).includes(link.searchParams.get('verification_code')!), 'the log never holds the code');
    });

    it('counts tampered codes as attempts: after 3 the link is dead', async () => {
      const { link } = await apiLink();
      const page = await call(null, link.pathname + link.search);
      const fields = hiddenFields(await page.text());
      for (let i = 0; i < 3; i++) {
        const res = await postForm(null, '/passwordless/verify_redirect', { ...fields, verification_code: `wrong-${i}` });
        assert.equal(res.status, 400);
      }
      const res = await postForm(null, '/passwordless/verify_redirect', fields);
      assert.equal(res.status, 400);
      assert.match(alertOf(await res.text()) ?? '', /too many times/);
    });

    it('finishes with the remembered request only: PKCE for public clients, registered callbacks', async () => {
      // An SPA link without a remembered code_challenge cannot yield a bare code.
      const noPkce = await apiLink({}, { app_type: 'spa', token_endpoint_auth_method: 'none' });
      const refused = await openAndSubmit(null, noPkce.link);
      assert.equal(refused.status, 400);
      assert.match(alertOf(await refused.text()) ?? '', /PKCE/);
      // The code was not spent on a request that cannot succeed… but it is useless anyway; with PKCE it works.
      const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
      const pkce = await apiLink({ code_challenge: challenge, code_challenge_method: 'S256' }, { app_type: 'spa', token_endpoint_auth_method: 'none' });
      const ok = await openAndSubmit(null, pkce.link);
      assert.equal(ok.status, 302);
      const code = new URL(ok.headers.get('location')!).searchParams.get('code')!;
      const stored = await ctx.server.services.store.getArtifact<{ code_challenge?: string }>('auth_code', artifactId(ctx.server.services, 'auth_code', code), Date.now());
      assert.equal(stored?.doc.code_challenge, challenge);

      // The link's own redirect_uri is ignored: only what start remembered counts.
      const { link } = await apiLink();
      const page = await call(null, link.pathname + link.search);
      const tampered = await postForm(null, '/passwordless/verify_redirect', { ...hiddenFields(await page.text()), redirect_uri: 'https://evil.example/steal' });
      assert.equal(tampered.status, 302);
      assert.ok(tampered.headers.get('location')!.startsWith(`${CALLBACK}?`));

      // A remembered redirect_uri that is not a registered callback: an error page, never a redirect.
      const bad = await apiLink({ redirect_uri: 'https://evil.example/steal' });
      const res = await openAndSubmit(null, bad.link);
      assert.equal(res.status, 400);
      assert.match(alertOf(await res.text()) ?? '', /return address/);
    });

    it('speaks the browser\'s language', async () => {
      const { link } = await apiLink();
      const fr = { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' };
      const res = await call(null, link.pathname + link.search, { headers: fr });
      const html = await res.text();
      assert.match(html, /<html lang="fr">/);
      assert.match(html, />Continuer<\/button>/);
      const used = await postForm(null, '/passwordless/verify_redirect', { ...hiddenFields(html), verification_code: 'nope' }, fr);
      assert.match(alertOf(await used.text()) ?? '', /Demandez un nouveau lien/);
    });

    it('answers incomplete links with a page, not an error blob', async () => {
      const res = await call(null, '/passwordless/verify_redirect?client_id=x');
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      assert.match(alertOf(await res.text()) ?? '', /incomplete/);
      const post = await postForm(null, '/passwordless/verify_redirect', { client_id: 'nope', connection: 'email', email: 'a@example.com', verification_code: 'x' });
      assert.equal(post.status, 400);
      assert.match(alertOf(await post.text()) ?? '', /not valid/);
    });

    it('completes a bound link in the browser that started it: the page submits itself, the transaction is marked done', async () => {
      const browser = newJar();
      const { link, tx, client } = await browserLink(browser);
      assert.equal((await logs('depnote', client.client_id)).length, 0, 'the transaction state authenticated the start');
      const page = await call(browser, link.pathname + link.search);
      const html = await page.text();
      assert.match(html, /<script nonce="[^"]+">[^<]*getElementById\('link-form'\)[^<]*\.submit\(\);<\/script>/);
      const nonce = /<script nonce="([^"]+)"/.exec(html)![1]!;
      assert.ok(page.headers.get('content-security-policy')!.includes(`'nonce-${nonce}'`));
      const done = await postForm(browser, '/passwordless/verify_redirect', hiddenFields(html));
      assert.equal(done.status, 302);
      const location = new URL(done.headers.get('location')!);
      assert.equal(location.searchParams.get('state'), 'app-state-b');
      assert.ok(location.searchParams.get('code'));
      assert.ok((await tx()).completed_at, 'the original tab can tell the sign-in finished');
      // A second submission from that browser (a quick click during the auto-submit) says it is done.
      const twice = await postForm(browser, '/passwordless/verify_redirect', hiddenFields(html));
      assert.equal(twice.status, 200);
      assert.match(await twice.text(), /<h1>Already signed in<\/h1>/);
    });

    it('refuses a bound link in another browser with an explanation and a relay code that finishes in the first tab', async () => {
      const first = newJar();
      const { link, state, csrf, tx, client } = await browserLink(first);
      const other = newJar();
      const page = await call(other, link.pathname + link.search);
      const pageHtml = await page.text();
      assert.doesNotMatch(pageHtml, /<script/, 'another browser gets no auto-submit');
      const refused = await postForm(other, '/passwordless/verify_redirect', hiddenFields(pageHtml));
      assert.equal(refused.status, 200);
      const html = await refused.text();
      assert.match(html, /must be finished in the browser where you entered your email address/);
      const relay = relayCodeOf(html);
      assert.ok(relay, 'a relay code XXX-XXX is shown');
      // Issue 10 §5: an attacker who started this sign-in may ask the victim to read the code out.
      assert.match(html, /data-testid="relay-warning">Never read this code out or send it to anyone[^<]*nobody legitimate ever asks for it/);
      assert.ok(other.get('sesame_session') === undefined, 'nobody is signed in on the other device');
      assert.equal((await tx()).completed_at, undefined);
      assert.ok((await logs('f', client.client_id)).some((l) => /same device and browser/.test(String(l.description))));

      // The relay code only works in the first browser, with the page's CSRF token.
      assert.equal((await postForm(other, '/login/relay', { state, _csrf: csrf, relay_code: relay })).status, 403);
      assert.equal((await postForm(first, '/login/relay', { state, relay_code: relay })).status, 403);

      // Typed loosely (lower case, a space for the dash, digits 0/1 for the letters O/I): still the code.
      const typed = relay.toLowerCase().replace('-', ' ').replace(/o/g, '0').replace(/i/g, '1');
      const done = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: typed });
      assert.equal(done.status, 302, await done.clone().text());
      const location = new URL(done.headers.get('location')!);
      assert.equal(location.searchParams.get('state'), 'app-state-b');
      assert.ok(location.searchParams.get('code'));
      assert.ok(first.get('sesame_session'), 'signed in where the email was entered');
      assert.ok((await tx()).completed_at);

      // Single use, and the link is spent with it.
      const reuse = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay });
      assert.equal(reuse.status, 200);
      assert.match(await reuse.text(), /already complete/);
      assert.equal(reuse.headers.get('location'), null, 'no second authorization response');
      const linkAgain = await postForm(other, '/passwordless/verify_redirect', hiddenFields(pageHtml));
      assert.equal(linkAgain.status, 400);
      assert.match(alertOf(await linkAgain.text()) ?? '', /not valid any more/);
      const inFirst = await postForm(first, '/passwordless/verify_redirect', hiddenFields(pageHtml));
      assert.equal(inFirst.status, 200, 'where the sign-in finished, the link just says so');
      assert.match(await inFirst.text(), /already complete/);
    });

    it('kills a relay code after 3 wrong tries; opening the link again gives a new one', async () => {
      const first = newJar();
      const { link, state, csrf } = await browserLink(first);
      const page = await call(null, link.pathname + link.search);
      const fields = hiddenFields(await page.text());
      const relay1 = relayCodeOf(await (await postForm(null, '/passwordless/verify_redirect', fields)).text())!;
      const wrong = relay1 === 'AAA-AAA' ? 'BBB-BBB' : 'AAA-AAA';

      const empty = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: ' - ' });
      assert.equal(empty.status, 400, 'an empty submission spends no try');
      for (const left of [2, 1]) {
        const res = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: wrong });
        assert.equal(res.status, 400);
        const html = await res.text();
        assert.match(alertOf(html) ?? '', new RegExp(`${left} tries left`));
        assert.match(html, /name="relay_code"[^>]*data-testid="relay-input"/);
      }
      const third = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: wrong });
      assert.equal(third.status, 400);
      assert.match(alertOf(await third.text()) ?? '', /Open the link in the email again/);
      const late = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay1 });
      assert.equal(late.status, 400, 'the right code is refused once the relay is dead');

      // Opening the link again on the other device replaces the relay with a fresh one (3 new tries).
      const relay2 = relayCodeOf(await (await postForm(null, '/passwordless/verify_redirect', fields)).text())!;
      const relay3 = relayCodeOf(await (await postForm(null, '/passwordless/verify_redirect', fields)).text())!;
      if (relay2 !== relay3) assert.equal((await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay2 })).status, 400, 'a replaced relay code is gone');
      const ok = await postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay3 });
      assert.equal(ok.status, 302);
    });

    it('lets exactly one of the link, its relay code and repeated submissions win when they race', async () => {
      const first = newJar();
      const { link, state, csrf } = await browserLink(first);
      const fields = hiddenFields(await (await call(null, link.pathname + link.search)).text());
      const relay = relayCodeOf(await (await postForm(null, '/passwordless/verify_redirect', fields)).text())!;
      const results = await Promise.all([
        postForm(first, '/passwordless/verify_redirect', fields),
        postForm(first, '/passwordless/verify_redirect', fields),
        postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay }),
        postForm(first, '/login/relay', { state, _csrf: csrf, relay_code: relay }),
      ]);
      assert.equal(results.filter((r) => r.status === 302).length, 1, `statuses: ${results.map((r) => r.status)}`);
      assert.ok(results.every((r) => r.status !== 500));
    });

    it('works from the hosted page: link sent there, opened elsewhere, relay typed into the "check your inbox" page', async () => {
      const conn = (await ctx.server.services.store.getConnectionByName('email'))!;
      await ctx.server.services.store.updateConnection({ ...conn, options: { ...conn.options, authentication_method: 'link' } });
      try {
        const first = newJar();
        const { client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: GRANTS });
        const q = new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code', state: 'hosted' });
        const login = (await call(first, `/authorize?${q}`)).headers.get('location')!;
        const form = hiddenFields(await (await call(first, login)).text());
        const email = uniqueEmail('hosted');
        const sent = await postForm(first, '/login/email', { ...form, email, send: 'link' });
        assert.equal(sent.status, 303);
        const inbox = await (await call(first, sent.headers.get('location')!)).text();
        assert.match(inbox, /<form method="post" action="\/login\/relay">/);
        const relayForm = hiddenFields(inbox.slice(inbox.indexOf('action="/login/relay"')));

        const link = await linkFor(email);
        const relay = relayCodeOf(await (await openAndSubmit(newJar(), link)).text());
        assert.ok(relay);
        const done = await postForm(first, '/login/relay', { state: relayForm.state!, _csrf: relayForm._csrf!, relay_code: relay });
        assert.equal(done.status, 302);
        assert.equal(new URL(done.headers.get('location')!).searchParams.get('state'), 'hosted');
        assert.equal((await logs('depnote', client.client_id)).length, 0);
        const status = await call(first, `/login/status?state=${encodeURIComponent(relayForm.state!)}`);
        assert.deepEqual(await status.json(), { status: 'done' });
      } finally {
        await ctx.server.services.store.updateConnection(conn);
      }
    });

    it('lets the other browser finish when the tenant allows magic links without a session', async () => {
      const current = await ctx.server.services.store.getTenantSettings();
      await ctx.server.services.store.putSetting('tenant', { ...current, universal_login: { passwordless: { allow_magiclink_verify_without_session: true } } });
      try {
        const first = newJar();
        const { link, tx } = await browserLink(first);
        const other = newJar();
        const done = await openAndSubmit(other, link);
        assert.equal(done.status, 302);
        assert.equal(new URL(done.headers.get('location')!).searchParams.get('state'), 'app-state-b');
        assert.ok(other.get('sesame_session'), 'the session is opened in the browser that finished');
        assert.ok((await tx()).completed_at);
      } finally {
        await ctx.server.services.store.putSetting('tenant', current);
      }
    });
  });
}
