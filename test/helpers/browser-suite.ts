import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import type { Backend } from './backends.ts';
import { type TestServer, MGMT, bootServer } from './boot.ts';
import { launchBrowser, newContext } from './browser.ts';
import { createClient } from './fixtures.ts';
import { type SinkMessage, type SmtpSink, startSmtpSink } from './smtp-sink.ts';
import { type SpaServer, startSpaServer } from './spa-server.ts';
import { thirdPartyCookieContext } from './third-party-cookies.ts';
import { makeTestCert, trustedFetch } from './tls.ts';
import { type WebApp, startWebApp } from './web-app.ts';

type Json = Record<string, unknown>;

/**
 * Everything one browser test file shares (one Sesame, one browser per file; tests isolate
 * themselves with new contexts and new users): Sesame on https://localhost:<port>/ with a
 * self-signed certificate (auth0-js and auth0-spa-js always build `https://${domain}`), a real SMTP
 * sink, the static site of the test pages on another origin (http://127.0.0.1:<port>), Chromium.
 */
export interface BrowserSuite {
  srv: TestServer;
  /** `https://localhost:<port>/`, with the trailing slash. */
  issuer: string;
  /** `localhost:<port>`: what the SDKs call `domain`. */
  domain: string;
  sink: SmtpSink;
  spa: SpaServer;
  browser: Browser;
  /** fetch that trusts the test certificate (Sesame speaks https only). */
  fetch: typeof fetch;
  /** The Management API, authenticated with an all-scopes token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** `GET /api/v2/logs?q=…` (spec §2.3 detection query). */
  logs(q: string): Promise<Json[]>;
  /**
   * A new browser profile: desktop unless `phone`. Third-party cookies are blocked (Debian's
   * Chromium default, like Safari or a private window) unless `thirdPartyCookies` (Chrome's default).
   */
  context(opts?: { phone?: boolean; locale?: string; javaScriptEnabled?: boolean; thirdPartyCookies?: boolean }): Promise<BrowserContext>;
  /** The next message to `email` that was not taken before (codes and links are single use). */
  mailTo(email: string, timeoutMs?: number): Promise<SinkMessage>;
  /** Checks an ID token the way an SDK does: signature against Sesame's JWKS, `iss`, `aud`, optional `nonce`. */
  verifyIdToken(token: string, audience: string, nonce?: string): Promise<JWTPayload>;
  close(): Promise<void>;
}

export async function startBrowserSuite(opts: { backend?: Backend; env?: Record<string, string> } = {}): Promise<BrowserSuite> {
  const cert = await makeTestCert();
  const sink = await startSmtpSink();
  const srv = await bootServer({
    backend: opts.backend ?? 'sqlite',
    env: {
      SESAME_TLS_CERT: cert.certPath,
      SESAME_TLS_KEY: cert.keyPath,
      SESAME_SMTP_URL: sink.url,
      SESAME_MAIL_POLL_MS: '50',
      SESAME_START_LIMIT_PER_HOUR: '0',
      ...opts.env,
    },
  });
  const issuer = srv.issuer;
  if (!/^https:\/\/localhost:\d+\/$/.test(issuer)) throw new Error(`the browser suite needs Sesame at https://localhost:<port>/, got ${issuer}`);
  const tfetch = trustedFetch(cert.ca);
  const [spa, browser] = await Promise.all([startSpaServer(), launchBrowser()]);
  const contexts = new Set<BrowserContext>();
  const taken = new Set<SinkMessage>();

  let token: string | undefined;
  async function mgmtToken(): Promise<string> {
    if (token) return token;
    const res = await tfetch(`${issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${issuer}api/v2/` }),
    });
    const json = (await res.json()) as { access_token?: string };
    if (!json.access_token) throw new Error(`no management token: ${res.status} ${JSON.stringify(json)}`);
    token = json.access_token;
    return token;
  }

  const suite: BrowserSuite = {
    srv,
    issuer,
    domain: new URL(issuer).host,
    sink,
    spa,
    browser,
    fetch: tfetch,
    async api(method, path, body) {
      const res = await tfetch(`${issuer}api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${await mgmtToken()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    },
    async logs(q) {
      const res = await suite.api('GET', `/logs?${new URLSearchParams({ q, per_page: '100' })}`);
      if (res.status !== 200) throw new Error(`GET /api/v2/logs?q=${q}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as Json[];
    },
    async context({ thirdPartyCookies, ...o } = {}) {
      const ctx = thirdPartyCookies ? await thirdPartyCookieContext(o) : await newContext(browser, o);
      contexts.add(ctx);
      ctx.on('close', () => contexts.delete(ctx));
      return ctx;
    },
    async mailTo(email, timeoutMs = 20_000) {
      const m = await sink.waitFor((x) => x.to === email && !taken.has(x), timeoutMs);
      taken.add(m);
      return m;
    },
    async verifyIdToken(idToken, audience, nonce) {
      const jwks = (await (await tfetch(`${issuer}.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer, audience, algorithms: ['RS256'] });
      if (nonce !== undefined && payload.nonce !== nonce) throw new Error(`ID token nonce ${String(payload.nonce)} is not ${nonce}`);
      return payload;
    },
    async close() {
      for (const ctx of contexts) await ctx.close().catch(() => {});
      await browser.close().catch(() => {});
      await Promise.all([spa.close(), srv.close(), sink.close()]);
    },
  };
  return suite;
}

/** A browser suite with a regular web app (test/helpers/web-app.ts) signed up as a confidential client. */
export interface WebAppSuite extends BrowserSuite {
  web: WebApp;
  /** The web app's client (`regular_web`: authorization_code, refresh_token and the OTP grant). */
  clientId: string;
  /** `web.loginUrl(clientId, extra)`: where a browser starts signing in to the web app. */
  loginUrl(extra?: Record<string, string>): string;
  /** Closes the web app, then the suite. */
  close(): Promise<void>;
}

/** `startBrowserSuite` plus a running web app registered with a client of its own on the `email` connection. */
export async function startWebAppSuite(opts: Parameters<typeof startBrowserSuite>[0] = {}): Promise<WebAppSuite> {
  const suite = await startBrowserSuite(opts);
  let web: WebApp | undefined;
  const close = async () => {
    await web?.close();
    await suite.close();
  };
  try {
    web = await startWebApp({ issuer: suite.issuer, fetch: suite.fetch });
    const { client, secret } = await createClient(suite.srv, {
      app_type: 'regular_web', callbacks: [web.callback], grant_types: ['authorization_code', 'refresh_token', PASSWORDLESS_OTP_GRANT],
    });
    web.register(client.client_id, secret);
    const app = web;
    return { ...suite, web, clientId: client.client_id, loginUrl: (extra) => app.loginUrl(client.client_id, extra), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The magic link in a message (spec §3.5): the text part holds it verbatim. */
export function extractLink(m: Pick<SinkMessage, 'text'>): string {
  const match = /https:\/\/\S+\/passwordless\/verify_redirect\?\S+/.exec(m.text);
  if (!match) throw new Error(`no magic link in message text: ${JSON.stringify(m.text.slice(0, 300))}`);
  return match[0];
}

/** What a page shows, for failure messages: URL, status line and the start of its text. */
export async function describePage(page: Page): Promise<string> {
  const text = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '(no body)');
  return `${page.url()}\n--- page text ---\n${text.slice(0, 800)}`;
}

/** A test page's `window.sesameTest[method](...args)` (test/browser/pages/*.html), in the page. */
export function callPage<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ({ m, a }) => (globalThis as unknown as { sesameTest: Record<string, (...x: unknown[]) => unknown> }).sesameTest[m]!(...a),
    { m: method, a: args },
  ) as Promise<T>;
}

/** What the test pages answer: `{ ok }` or an SDK error made plain. */
export type Outcome<T = unknown> = { ok: T; error?: undefined } | { ok?: undefined; error: string; description?: string; statusCode?: number };
