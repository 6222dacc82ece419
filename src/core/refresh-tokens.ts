import type { Services } from '../services.ts';
import { type RefreshTokenDoc, artifactId, findArtifact, newToken } from './artifacts.ts';
import { DEFAULT_REFRESH_TOKEN } from './clients.ts';
import { randomId } from './crypto.ts';
import type { Client, RefreshTokenConfig } from './model.ts';
import type { Artifact } from '../store/types.ts';
import { hasScope } from './tokens.ts';

/**
 * Refresh tokens (RFC 6749 §6, issue 3 §6). The token is 256 random bits the app holds; the store
 * keeps only its keyed hash (`artifactId`). Tokens descending from one login share a `family`:
 * rotation adds to it, and reuse of a rotated-out token or a revocation deletes all of it
 * (Auth0's "automatic reuse detection", RFC 9700 §4.14.2).
 */

/** What the store keeps per token: the grant, plus the clocks of the lifetime policy (epoch ms). */
export interface StoredRefreshToken extends RefreshTokenDoc {
  /** The family's absolute end: counted from the login, never extended by rotation. */
  family_expires_at: number;
  issued_at: number;
  /** Non-rotating tokens are used many times: their inactivity clock restarts at each use. */
  last_used_at?: number;
}

export type RefreshGrant = Omit<RefreshTokenDoc, 'client_id'> & { client: Client };

/** "Never" for non-expiring tokens: far enough that no deployment sees it, small enough for a bigint column. */
const NEVER_MS = 100 * 365 * 24 * 3_600_000;

/** The client's policy over Sesame's default, field by field (clients stored before the field existed have none). */
export function refreshTokenConfig(client: Pick<Client, 'refresh_token'>): RefreshTokenConfig {
  return { ...DEFAULT_REFRESH_TOKEN, ...client.refresh_token };
}

/** Auth0's rule: a refresh token only for `offline_access`, and only if the client may use the grant. */
export function grantsRefreshToken(client: Pick<Client, 'grant_types'>, scope: string): boolean {
  return hasScope(scope, 'offline_access') && client.grant_types.includes('refresh_token');
}

/** The `refresh_token` field of a token response after a login, if the login earns one (each login = a new family). */
export async function offlineAccess(s: Services, g: RefreshGrant & { family?: string }): Promise<{ refresh_token?: string }> {
  if (!grantsRefreshToken(g.client, g.scope)) return {};
  return { refresh_token: await issueRefreshToken(s, { ...g, family: g.family ?? randomId(32) }) };
}

/** Stores a new token of `family`; a rotation passes the family's absolute end along, a login starts it. */
export async function issueRefreshToken(s: Services, g: RefreshGrant & { family: string; familyExpiresAt?: number }): Promise<string> {
  const { token, artifact } = newRefreshToken(s, g);
  await s.store.putArtifact(artifact);
  return token;
}

/** A new token of `family` and the artifact that stores it (only its keyed hash). */
function newRefreshToken(s: Services, g: RefreshGrant & { family: string; familyExpiresAt?: number }) {
  const cfg = refreshTokenConfig(g.client);
  const now = s.now();
  const expiring = cfg.expiration_type === 'expiring';
  const familyExpiresAt = g.familyExpiresAt ?? now + (expiring && !cfg.infinite_token_lifetime ? cfg.token_lifetime * 1000 : NEVER_MS);
  // A rotating token is used once, so its inactivity limit is simply its own expiry. A non-rotating
  // one lives to the family's end; `isIdle` checks its inactivity at each use.
  const idleEnd = expiring && !cfg.infinite_idle_token_lifetime && cfg.rotation_type === 'rotating' ? now + cfg.idle_token_lifetime * 1000 : Infinity;
  const { client, family, familyExpiresAt: _, ...grant } = g;
  const doc: StoredRefreshToken = { ...grant, client_id: client.client_id, family_expires_at: familyExpiresAt, issued_at: now };
  const token = newToken();
  return { token, artifact: { kind: 'refresh_token' as const, id: artifactId(s, 'refresh_token', token), family, doc, expires_at: Math.min(familyExpiresAt, idleEnd) } };
}

/**
 * The live token, if it was issued to this client and its lifetimes allow use. Read-only: the
 * caller validates the request against it before `useRefreshToken` spends it. Consumed tokens are
 * returned too, so that using one is seen as reuse.
 */
export async function findRefreshToken(s: Services, client: Pick<Client, 'client_id' | 'refresh_token'>, token: string): Promise<Artifact<StoredRefreshToken> | undefined> {
  if (token.length > 128) return undefined; // ours are 43 characters
  const now = s.now();
  const a = await findArtifact<StoredRefreshToken>(s, 'refresh_token', token, now);
  if (!a || a.doc.client_id !== client.client_id) return undefined;
  if (now >= a.doc.family_expires_at) return undefined;
  // A consumed token skips the inactivity check so that presenting it is still detected as reuse.
  if (a.consumed_at === null && isIdle(refreshTokenConfig(client), a.doc, now)) return undefined;
  return a;
}

/** Inactivity under the client's current policy: the clock runs from the last use (or issue). */
function isIdle(cfg: RefreshTokenConfig, doc: StoredRefreshToken, now: number): boolean {
  if (cfg.expiration_type !== 'expiring' || cfg.infinite_idle_token_lifetime) return false;
  return now - (doc.last_used_at ?? doc.issued_at) >= cfg.idle_token_lifetime * 1000;
}

export type UseOutcome =
  /** `refresh_token` is the rotated successor; absent for non-rotating clients (the app keeps its token). */
  | { kind: 'ok'; refresh_token?: string }
  /** A rotated-out token came back outside the leeway: the whole family is gone now. */
  | { kind: 'reused'; revoked: number }
  /** Expired or deleted between the read and the use. */
  | { kind: 'gone' };

/**
 * Spends a token found by `findRefreshToken`. Rotating: consumed atomically (one UPDATE, store
 * contract), within `leeway` seconds a rotated-out token still succeeds (concurrent tabs, a lost
 * response), and the successor joins the same family. Non-rotating: the same token stays valid.
 */
export async function useRefreshToken(s: Services, client: Client, a: Artifact<StoredRefreshToken>): Promise<UseOutcome> {
  const cfg = refreshTokenConfig(client);
  const now = s.now();
  const family = a.family ?? a.id;
  if (cfg.rotation_type === 'non-rotating') {
    // Rotated out while the client was still rotating: reuse all the same.
    if (a.consumed_at !== null) return { kind: 'reused', revoked: await revokeFamily(s, a) };
    const updated = await s.store.updateArtifact<StoredRefreshToken>('refresh_token', a.id, { ...a.doc, last_used_at: now }, now);
    return updated ? { kind: 'ok' } : { kind: 'gone' };
  }
  // The successor is stored in the same transaction that consumes the token (store contract), so a
  // revocation racing this rotation either finds the token gone or waits for the successor.
  const { client_id: _, family_expires_at, issued_at: __, last_used_at: ___, ...grant } = a.doc;
  const next = newRefreshToken(s, { ...grant, client, family, familyExpiresAt: family_expires_at });
  const r = await s.store.rotateArtifact<StoredRefreshToken>('refresh_token', a.id, now, cfg.leeway * 1000, next.artifact);
  if (r.status === 'missing') return { kind: 'gone' };
  if (r.status === 'reused') return { kind: 'reused', revoked: await revokeFamily(s, a) };
  return { kind: 'ok', refresh_token: next.token };
}

async function revokeFamily(s: Services, a: Artifact<StoredRefreshToken>): Promise<number> {
  // Twice: on PostgreSQL a DELETE that waited for a rotation's lock on the old token does not see the
  // successor that rotation committed (its snapshot is older); the second DELETE does.
  if (a.family) return (await s.store.deleteArtifactFamily(a.family)) + (await s.store.deleteArtifactFamily(a.family));
  return (await s.store.deleteArtifact('refresh_token', a.id)) ? 1 : 0;
}

/**
 * RFC 7009 §2.1 for `/oauth/revoke`: deletes the token's family if the token was issued to this
 * client (Auth0 revokes the grant, not just the one token). Returns the revoked grant, or undefined
 * when there was nothing to revoke.
 */
export async function revokeRefreshToken(s: Services, client: Pick<Client, 'client_id'>, token: string): Promise<StoredRefreshToken | undefined> {
  if (token.length > 128) return undefined;
  const a = await findArtifact<StoredRefreshToken>(s, 'refresh_token', token, s.now());
  if (!a || a.doc.client_id !== client.client_id) return undefined;
  return (await revokeFamily(s, a)) > 0 ? a.doc : undefined;
}
