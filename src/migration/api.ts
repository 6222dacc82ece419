/**
 * A small Auth0 Management API client over the global fetch, for the migration commands. It speaks
 * only what they need (GET with a query, PATCH with JSON) and turns every failure into an ApiFailure
 * with a message an operator can act on. TLS trust is Node's: the system store plus
 * NODE_EXTRA_CA_CERTS, as the Auth0 SDKs assume `https://{domain}/` (spec §8.4).
 */
import { SETTINGS } from '../config/schema.ts';
import { dataDirOf, readLocalState } from '../local.ts';

export class ApiFailure extends Error {}

export interface Connection {
  /** `https://host[:port]/`, with the trailing slash Auth0's issuer has. */
  base: string;
  token: string;
}

export interface ConnectionFlags {
  domain?: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

/**
 * `host[:port]` → `https://host[:port]/` (Auth0's form: a tenant domain), or a full http(s) URL such
 * as `http://localhost:3000` for a development server; anything else is refused.
 */
export function domainBase(domain: string): string {
  if (domain.includes('://')) {
    if (!URL.canParse(domain)) throw new ApiFailure(`--domain is not a URL (got "${domain}")`);
    const u = new URL(domain);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username || u.password) {
      throw new ApiFailure(`--domain must be host[:port] or an http(s) URL without query or credentials (got "${domain}")`);
    }
    return `${u.origin}${u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`}`;
  }
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(domain)) throw new ApiFailure(`--domain must be host[:port] or a URL such as http://localhost:3000 (got "${domain}")`);
  return `https://${domain}/`;
}

/**
 * Where to connect and with which token: `--domain` with `--token` or `--client-id`/`--client-secret`
 * (client_credentials, audience `<base>api/v2/`, as Auth0 requires). Without `--domain`: SESAME_ISSUER,
 * else the one SESAME_PORT implies, else the issuer the local server last started with. Without
 * credentials: SESAME_BOOTSTRAP_CLIENT_*, else the Management client the local server generated, and
 * only for an issuer a server on that data folder has served as (src/local.ts): a local secret is
 * never sent anywhere else.
 */
export async function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Connection> {
  const databaseUrl = env.SESAME_DATABASE_URL?.trim() || SETTINGS.find((x) => x.env === 'SESAME_DATABASE_URL')!.default!;
  const local = readLocalState(dataDirOf(databaseUrl));
  let base: string;
  if (flags.domain !== undefined) base = domainBase(flags.domain);
  else {
    // The server's own configuration first; a port of 0 was chosen at listen, so the last start knows.
    const port = env.SESAME_PORT?.trim();
    const derived = port && port !== '0' ? `${env.SESAME_TLS_CERT?.trim() ? 'https' : 'http'}://localhost:${port}/` : undefined;
    const issuer = env.SESAME_ISSUER?.trim() || derived || local.issuer;
    if (!issuer) throw new ApiFailure('No server given: pass --domain (host[:port] or a URL such as http://localhost:3000), set SESAME_ISSUER, or run this in the folder where `sesame start` keeps ./data.');
    if (!URL.canParse(issuer)) throw new ApiFailure(`SESAME_ISSUER is not a URL: ${issuer}`);
    const u = new URL(issuer);
    base = `${u.origin}${u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`}`;
  }
  if (flags.token !== undefined) {
    if (flags.token.trim() === '') throw new ApiFailure('--token is empty');
    return { base, token: flags.token.trim() };
  }
  const localClient = Array.isArray(local.issuers) && local.issuers.includes(base) && flags.clientId === undefined ? local : {};
  const clientId = flags.clientId ?? (env.SESAME_BOOTSTRAP_CLIENT_ID?.trim() || localClient.client_id);
  const clientSecret = flags.clientSecret ?? (env.SESAME_BOOTSTRAP_CLIENT_SECRET?.trim() || localClient.client_secret);
  if (!clientId || !clientSecret) {
    throw new ApiFailure('No credentials: pass --token, or --client-id and --client-secret (or set SESAME_BOOTSTRAP_CLIENT_ID/SECRET).');
  }
  const res = await call(`${base}oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: `${base}api/v2/` }),
  });
  const body = (await json(res)) as { access_token?: unknown; error?: unknown; error_description?: unknown } | undefined;
  if (!res.ok || typeof body?.access_token !== 'string') {
    const why = body?.error_description ?? body?.error ?? res.statusText;
    throw new ApiFailure(`Could not get a Management API token from ${base}oauth/token: ${res.status} ${String(why)}`);
  }
  return { base, token: body.access_token };
}

export class ManagementApi {
  readonly conn: Connection;
  /** Every request made, as `METHOD /path?query`: how much of the log a report had to read. */
  readonly requests: string[] = [];
  constructor(conn: Connection) {
    this.conn = conn;
  }

  async get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    return (await this.getPage<T>(path, query)).body;
  }

  /** GET with the `Link: <…>; rel="next"` target, which checkpoint paging answers with (spec §5). */
  async getPage<T>(path: string, query: Record<string, string> = {}): Promise<{ body: T; next: URL | undefined }> {
    const url = new URL(`api/v2/${path}`, this.conn.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const { body, res } = await this.exchange<T>('GET', url);
    return { body, next: nextLink(res.headers.get('link')) };
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PATCH', new URL(`api/v2/${path}`, this.conn.base), body);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('POST', new URL(`api/v2/${path}`, this.conn.base), body);
  }

  async delete(path: string): Promise<void> {
    await this.send<unknown>('DELETE', new URL(`api/v2/${path}`, this.conn.base));
  }

  /** GET that answers undefined on 404 (an application deleted since it was logged). */
  async find<T>(path: string, query: Record<string, string> = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(path, query);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }

  private async send<T>(method: string, url: URL, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, url, body)).body;
  }

  private async exchange<T>(method: string, url: URL, body?: unknown): Promise<{ body: T; res: Response }> {
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const headers: Record<string, string> = { authorization: `Bearer ${this.conn.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await call(url.href, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const parsed = await json(res);
    if (res.status === 404) throw new NotFound(`${method} ${url.pathname}: 404`);
    if (!res.ok) {
      const msg = (parsed as { message?: unknown } | undefined)?.message ?? res.statusText;
      // 401/403 are the usual operator mistakes: name the scope problem plainly.
      const hint = res.status === 401 ? ' (the token is invalid or expired)' : res.status === 403 ? ' (the token lacks a scope this needs)' : '';
      throw new ApiFailure(`${method} ${url.pathname} failed: ${res.status} ${String(msg)}${hint}`);
    }
    return { body: parsed as T, res };
  }
}

/** The `rel="next"` URL of an RFC 8288 Link header, if any. */
function nextLink(header: string | null): URL | undefined {
  for (const part of header?.split(',') ?? []) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel="?next"?\s*(;|$)/.test(m[2]!) && URL.canParse(m[1]!)) return new URL(m[1]!);
  }
  return undefined;
}

class NotFound extends ApiFailure {}

/** fetch with network errors (refused, TLS trust, DNS) turned into a readable ApiFailure. */
async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(detail)) ? ' — trust the server certificate with NODE_EXTRA_CA_CERTS=<ca.pem>' : '';
    throw new ApiFailure(`Cannot reach ${new URL(url).origin}: ${detail}${tls}`);
  }
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiFailure(`${res.url}: ${res.status}, the answer is not JSON`);
  }
}
