import assert from 'node:assert/strict';
/**
 * A browser stand-in over fetch for HTTP-level page tests: keeps cookies from Set-Cookie (by name;
 * no domain or path scoping, one server per jar), sends them back, never follows redirects.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, headers: Record<string, string> = {}) {
    this.#base = baseUrl;
    this.#headers = headers;
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers({ ...this.#headers, ...(init.headers as Record<string, string> | undefined) });
    if (this.#cookies.size) headers.set('cookie', [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(path, this.#base), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0\b/i.test(line) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return res;
  }

  /** POSTs a form (application/x-www-form-urlencoded), as a browser submits one: with the page's `Origin`. */
  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const origin = new URL(this.#base).origin;
    return this.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers }, body: new URLSearchParams(fields).toString() });
  }
}

/** An HTML attribute value as the browser reads it (the entities Sesame's pages escape). */
const unescapeHtml = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of the first `<input name="…" value="…">` in the HTML (attribute order free). */
export function inputValue(html: string, name: string): string | undefined {
  for (const tag of html.match(/<input\b[^>]*>/g) ?? []) {
    if (!new RegExp(`\\bname="${name}"`).test(tag)) continue;
    const v = /\bvalue="([^"]*)"/.exec(tag)?.[1];
    return v === undefined ? undefined : unescapeHtml(v);
  }
  return undefined;
}

/** The hidden fields of a page's form, as the browser would submit them. */
export const hiddenFields = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [unescapeHtml(m[1]!), unescapeHtml(m[2]!)]));

/** Every `<input …>` tag whose attributes include `name="…"`. */
export const inputTags = (html: string, name: string): string[] => (html.match(/<input\b[^>]*>/g) ?? []).filter((t) => t.includes(`name="${name}"`));

/** A hosted login page opened over HTTP: the browser's cookie jar, the page, and its form's state and _csrf. */
export interface LoginPage {
  jar: CookieJar;
  page: Response;
  html: string;
  state: string;
  csrf: string;
}

/** /authorize with `query` → 302 /login?state=… → the login page, in a fresh cookie jar. */
export async function openLoginPage(baseUrl: string, query: Record<string, string>, headers: Record<string, string> = {}): Promise<LoginPage> {
  const jar = new CookieJar(baseUrl, headers);
  const authz = await jar.fetch(`/authorize?${new URLSearchParams(query)}`);
  assert.equal(authz.status, 302, await authz.clone().text());
  const loginUrl = new URL(authz.headers.get('location')!, baseUrl);
  assert.equal(loginUrl.pathname, '/login', `${loginUrl}`);
  const page = await jar.fetch(loginUrl.pathname + loginUrl.search);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const state = inputValue(html, 'state')!;
  const csrf = inputValue(html, '_csrf')!;
  assert.equal(state, loginUrl.searchParams.get('state'));
  assert.ok(csrf);
  return { jar, page, html, state, csrf };
}
