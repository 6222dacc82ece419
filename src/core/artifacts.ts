import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import type { Artifact, ArtifactKind, CodeKey } from '../store/types.ts';

/**
 * Browser sign-in state (issue 3). Each artifact is stored under a keyed hash of the token that the
 * browser or app holds (`artifactId`), so the table alone yields nothing that can be replayed.
 */

/** 256 random bits, base64url: session cookies, authorization codes, refresh tokens, tickets. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export const artifactId = (s: Pick<Services, 'keyring'>, kind: ArtifactKind, token: string): string => s.keyring.hash(`artifact:${kind}`, token);

/**
 * The live artifact a token names, whichever configured secret hashed its id (issue 10 §3): the
 * current one first, then SESAME_SECRET_PREVIOUS, then ids written before key ids. Used for what
 * outlives a restart with a new secret (sessions, refresh tokens, authorization codes); the `id`
 * of the result is where it was found, for the update or consume that follows.
 */
export async function findArtifact<T>(s: Pick<Services, 'keyring' | 'store'>, kind: ArtifactKind, token: string, now: number): Promise<Artifact<T> | undefined> {
  for (const id of s.keyring.hashCandidates(`artifact:${kind}`, token)) {
    const a = await s.store.getArtifact<T>(kind, id, now);
    if (a) return a;
  }
  return undefined;
}

export const TTL = {
  /** An /authorize transaction: long enough to find the email and come back. */
  transaction: 60 * 60_000,
  /** Login session (Auth0's default inactivity timeout is 3 days). */
  session: 3 * 24 * 3_600_000,
  /** RFC 6749 §4.1.2: short-lived, 10 minutes at most. */
  auth_code: 5 * 60_000,
  /** Auth0's default refresh-token lifetime (30 days) when the client does not set one. */
  refresh_token: 30 * 24 * 3_600_000,
  /** auth0-js keeps the co_verifier 15 minutes; the ticket must be redeemed well before. */
  login_ticket: 5 * 60_000,
} as const;

export type ResponseType = 'code' | 'token' | 'id_token' | 'id_token token';
export type ResponseMode = 'query' | 'fragment' | 'form_post' | 'web_message';

/** A validated /authorize request: what the sign-in finishes with. */
export interface AuthorizeParams {
  client_id: string;
  redirect_uri: string;
  response_type: ResponseType;
  response_mode: ResponseMode;
  scope: string;
  /** The application's own `state`, returned untouched (RFC 6749 §4.1.2). */
  state?: string;
  nonce?: string;
  audience?: string;
  code_challenge?: string;
  code_challenge_method?: 'S256';
  /** The connection asked for, or chosen: the one passwordless connection the page signs in with. */
  connection?: string;
  login_hint?: string;
  ui_locales?: string;
  /** Sesame's preselection of the method on the hosted page. */
  send?: 'code' | 'link';
  prompt?: 'login' | 'none';
}

/**
 * A live /authorize transaction. Its token is the `state` the login page forwards (spec §2.1: it
 * authenticates the page's /passwordless/start calls), and it is the `internalOptions.state` of a
 * custom login page.
 */
export interface TransactionDoc {
  params: AuthorizeParams;
  /** Keyed hash of the browser-binding cookie set by /authorize (magic links complete only there). */
  browser_hash: string;
  /** Anti-CSRF token of the login page's forms (`_csrf`). */
  csrf: string;
  created_at: number;
  /** Progress on the hosted page: the address (email connection) or E.164 number (sms connection) sent to. */
  email?: string;
  phone?: string;
  sent_with?: 'code' | 'link';
  sent_at?: number;
  /** Set when the sign-in finished (in this tab or the magic-link tab) so the original tab can tell. */
  completed_at?: number;
}

export interface SessionDoc {
  user_id: string;
  connection: string;
  /** Epoch seconds (OIDC `auth_time`). */
  auth_time: number;
  created_at: number;
}

export interface AuthCodeDoc {
  client_id: string;
  redirect_uri: string;
  scope: string;
  audience?: string;
  nonce?: string;
  code_challenge?: string;
  code_challenge_method?: 'S256';
  user_id: string;
  connection: string;
  auth_time: number;
  /** Session id (`sid`), also the family of refresh tokens issued from this code. */
  sid: string;
  /** Set when the code was presented again after its use (RFC 6749 §4.1.2): its tokens are revoked. */
  replayed_at?: number;
}

export interface RefreshTokenDoc {
  client_id: string;
  user_id: string;
  connection: string;
  scope: string;
  audience?: string;
  auth_time: number;
  sid?: string;
}

export interface LoginTicketDoc {
  client_id: string;
  user_id: string;
  connection: string;
  auth_time: number;
  co_id: string;
  /** Keyed hash of the co_verifier cookie value, checked when /authorize redeems the ticket. */
  verifier_hash: string;
}

/** A magic link opened in another browser: the code to type into the original tab. */
export interface RelayDoc {
  tx_hash: string;
  /** The link's code record, consumed when the relay code is accepted. */
  code_key: CodeKey;
  code_hash: string;
  /** Keyed hash of the relay code shown on the other device. */
  relay_hash: string;
}
