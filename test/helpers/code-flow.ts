import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSession, signInUser } from '../../src/core/authorize.ts';
import type { Client } from '../../src/core/model.ts';
import { MGMT, type TestServer } from './boot.ts';
import { makeTestCert, trustedFetch } from './tls.ts';
import { uniqueEmail } from './fixtures.ts';

/** TLS for a test server: the auth0 SDK only talks https. `fetch` trusts the test certificate alone. */
export async function tlsSetup(): Promise<{ env: Record<string, string>; fetch: typeof fetch; ca: string }> {
  const cert = await makeTestCert();
  return { env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath }, fetch: trustedFetch(cert.ca), ca: cert.ca };
}

/** RFC 7636 §4.1–4.2: a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * A login session minted with the real core, as a finished browser sign-in leaves it (the hosted
 * page is another suite's subject): signInUser (user, `s` log) + createSession (cookie token).
 */
export async function loginSession(srv: TestServer, client: Client, email = uniqueEmail()): Promise<{ token: string; sid: string; email: string; userId: string }> {
  const conn = await srv.services.store.getConnectionByName('email');
  assert.ok(conn, 'the email connection exists');
  const signedIn = await signInUser(srv.services, client, conn, email, { ip: '127.0.0.1' });
  const session = await createSession(srv.services, signedIn);
  return { token: session.token, sid: session.sid, email, userId: signedIn.user.user_id };
}

/** GET /authorize with the session cookie; returns the redirect's Location (no redirect is followed). */
export async function authorizeRedirect(srv: TestServer, f: typeof fetch, sessionToken: string | undefined, params: Record<string, string>): Promise<URL> {
  const res = await f(`${srv.baseUrl}/authorize?${new URLSearchParams(params)}`, {
    redirect: 'manual',
    headers: sessionToken ? { cookie: `sesame_session=${sessionToken}` } : {},
  });
  assert.equal(res.status, 302, await res.text());
  return new URL(res.headers.get('location')!, srv.baseUrl);
}

export interface CodeOptions {
  scope?: string;
  nonce?: string;
  audience?: string;
  /** A PKCE challenge; `pkce: true` makes a fresh pair. */
  pkce?: boolean;
  redirectUri?: string;
  email?: string;
}

/** An authorization code for `client` through the real /authorize (SSO from a login session). */
export async function authorizationCode(srv: TestServer, f: typeof fetch, client: Client, o: CodeOptions = {}) {
  const session = await loginSession(srv, client, o.email);
  const pair = o.pkce ? pkcePair() : undefined;
  const redirectUri = o.redirectUri ?? client.callbacks[0]!;
  const state = randomBytes(8).toString('hex');
  const loc = await authorizeRedirect(srv, f, session.token, {
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: o.scope ?? 'openid email',
    state,
    ...(o.nonce ? { nonce: o.nonce } : {}),
    ...(o.audience ? { audience: o.audience } : {}),
    ...(pair ? { code_challenge: pair.challenge, code_challenge_method: 'S256' } : {}),
  });
  assert.equal(`${loc.origin}${loc.pathname}`, redirectUri, loc.href);
  assert.equal(loc.searchParams.get('state'), state);
  const code = loc.searchParams.get('code');
  assert.ok(code, `no code in ${loc.href}`);
  return { code, verifier: pair?.verifier, redirectUri, session };
}

/** POST /oauth/token as a form (what the SDKs send); returns status and parsed JSON. */
export async function tokenRequest(srv: TestServer, f: typeof fetch, body: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await f(`${srv.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

/** `srv.mgmtToken()` over the TLS-trusting fetch (the boot helper's own fetch trusts only public CAs). */
export async function managementCall(srv: TestServer, f: typeof fetch, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const tok = await tokenRequest(srv, f, { grant_type: 'client_credentials', ...MGMT, audience: `${srv.issuer}api/v2/` });
  assert.equal(tok.status, 200, tok.text);
  const res = await f(`${srv.baseUrl}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${String(tok.body.access_token)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
