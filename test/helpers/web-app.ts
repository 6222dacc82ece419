import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWTPayload, createLocalJWKSet, jwtVerify } from 'jose';

/** What the app's callback concluded: verified ID token claims and the token response, or the error. */
export interface WebAppResult {
  client_id: string;
  claims?: JWTPayload;
  tokens?: Record<string, unknown>;
  error?: string;
  error_description?: string;
}

export interface WebApp {
  /** `http://127.0.0.1:<port>`: the app's own site, not Sesame's. */
  origin: string;
  /** The redirect_uri to register on the client. */
  callback: string;
  /** Makes the app sign in with this confidential client (several may be registered). */
  register(clientId: string, secret: string): void;
  /** Where a browser starts: `/login?client_id=…&<extra /authorize params>`. */
  loginUrl(clientId: string, extra?: Record<string, string>): string;
  /** Every callback handled, oldest first. */
  results: WebAppResult[];
  close(): Promise<void>;
}

const b64url = (b: Buffer) => b.toString('base64url');

/**
 * A regular web application, real and minimal, as express-openid-connect does it: `/login` sends
 * the browser to Sesame's /authorize (code flow, state, nonce, PKCE S256), `/callback` checks the
 * state, redeems the code at /oauth/token with its client secret (client_secret_post), verifies the
 * ID token against Sesame's JWKS (signature, iss, aud, nonce) and shows its claims.
 */
export async function startWebApp(opts: { issuer: string; fetch: typeof fetch }): Promise<WebApp> {
  const { issuer } = opts;
  const secrets = new Map<string, string>();
  const pending = new Map<string, { client_id: string; nonce: string; verifier: string }>();
  const results: WebAppResult[] = [];
  let callback = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', callback);
    if (url.pathname === '/login') {
      const clientId = url.searchParams.get('client_id') ?? '';
      if (!secrets.has(clientId)) return page(res, 400, 'Unknown client', `<p data-testid="error">unknown client</p>`);
      const state = b64url(randomBytes(16));
      const nonce = b64url(randomBytes(16));
      const verifier = b64url(randomBytes(32));
      pending.set(state, { client_id: clientId, nonce, verifier });
      const q = new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: callback, scope: 'openid profile email',
        state, nonce, code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
      });
      for (const [k, v] of url.searchParams) if (k !== 'client_id') q.set(k, v);
      res.writeHead(302, { location: `${issuer}authorize?${q}` });
      return void res.end();
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname !== '/callback') return page(res, 404, 'Not found', '<p>not found</p>');

    const state = url.searchParams.get('state') ?? '';
    const tx = pending.get(state);
    const error = url.searchParams.get('error');
    if (error) {
      results.push({ client_id: tx?.client_id ?? '', error, error_description: url.searchParams.get('error_description') ?? '' });
      return page(res, 400, 'Sign-in failed', `<p data-testid="error">${esc(error)}: ${esc(url.searchParams.get('error_description') ?? '')}</p>`);
    }
    if (!tx) return page(res, 400, 'Sign-in failed', '<p data-testid="error">state mismatch</p>');
    pending.delete(state);
    const tokenRes = await opts.fetch(`${issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: url.searchParams.get('code') ?? '', redirect_uri: callback,
        client_id: tx.client_id, client_secret: secrets.get(tx.client_id)!, code_verifier: tx.verifier,
      }).toString(),
    });
    const tokens = (await tokenRes.json()) as Record<string, unknown>;
    if (tokenRes.status !== 200 || typeof tokens.id_token !== 'string') {
      results.push({ client_id: tx.client_id, error: String(tokens.error ?? tokenRes.status), error_description: String(tokens.error_description ?? '') });
      return page(res, 400, 'Sign-in failed', `<p data-testid="error">token endpoint ${tokenRes.status}: ${esc(JSON.stringify(tokens))}</p>`);
    }
    const jwks = createLocalJWKSet((await (await opts.fetch(`${issuer}.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0]);
    try {
      const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: tx.client_id, algorithms: ['RS256'] });
      if (payload.nonce !== tx.nonce) throw new Error('nonce mismatch');
      results.push({ client_id: tx.client_id, claims: payload, tokens });
      return page(res, 200, 'Signed in', `<h1 data-testid="signed-in">Signed in as ${esc(String(payload.email))}</h1><pre data-testid="claims">${esc(JSON.stringify(payload, null, 1))}</pre>`);
    } catch (err) {
      results.push({ client_id: tx.client_id, error: 'invalid_id_token', error_description: (err as Error).message });
      return page(res, 400, 'Sign-in failed', `<p data-testid="error">invalid ID token: ${esc((err as Error).message)}</p>`);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => page(res, 500, 'Error', `<p data-testid="error">${esc(String(err))}</p>`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  callback = `${origin}/callback`;
  return {
    origin,
    callback,
    results,
    register: (clientId, secret) => void secrets.set(clientId, secret),
    loginUrl: (clientId, extra = {}) => `${origin}/login?${new URLSearchParams({ client_id: clientId, ...extra })}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main>${body}</main></body></html>`);
}
