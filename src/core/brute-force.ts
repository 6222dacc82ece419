import { OAuthError } from '../errors/oauth-error.ts';
import type { Services } from '../services.ts';
import type { BruteForcePolicy, LoginFailureKey } from '../store/types.ts';
import { type RequestContext, makeLog, passwordlessFields } from './logs.ts';
import type { Client, Connection } from './model.ts';
import { ipKey } from './ip-key.ts';
import { allowlisted, bruteForceSettings } from './attack-protection.ts';

const DAY = 86_400_000;

/**
 * Auth0's Brute-force Protection (spec §7, BFP): `max_attempts` (10 by default) failed attempts per
 * identifier from one IP block that pair; the block lasts 30 days or until an operator lifts it
 * (`DELETE /api/v2/user-blocks`). Failures older than the block's length no longer count (Auth0 does
 * not document a window; the block's own 30 days keep one bound for both). The tenant's settings
 * (`/api/v2/attack-protection/brute-force-protection`, core/attack-protection.ts) set the threshold,
 * turn it off, exempt allowlisted IPs or count per identifier from any IP.
 */
export const BRUTE_FORCE_POLICY: BruteForcePolicy = { threshold: 10, windowMs: 30 * DAY, blockMs: 30 * DAY };

/** The pairs' key: with `count_per_identifier`, every IP counts as this one. */
export const ANY_IP = '*';

/** The policy in force for this guess, or null when the tenant setting or the connection turns it off for it. */
async function policyFor(s: Services, g: BruteForceGuard): Promise<{ policy: BruteForcePolicy; perIp: boolean } | null> {
  if (!protectionOn(g.connection)) return null;
  const t = await bruteForceSettings(s);
  // `block` is the shield Sesame has; without it Auth0 would only notify, and Sesame sends no notices.
  if (!t.enabled || !t.shields.includes('block') || allowlisted(t.allowlist, g.ctx.ip)) return null;
  return { policy: { ...BRUTE_FORCE_POLICY, threshold: t.max_attempts }, perIp: t.mode !== 'count_per_identifier' };
}

/**
 * Spec §3.3, BFP. Auth0's full text goes on "We've sent you an email with instructions on how to
 * unblock it." Sesame sends no such email, so only the first sentence, byte for byte: apps that
 * match on it (or on `too_many_attempts`) still recognise the block (docs/auth0-compat.md).
 */
export const TOO_MANY_ATTEMPTS = 'Your account has been blocked after multiple consecutive login attempts.';

/**
 * `429 {"error":"too_many_attempts", …}` as /oauth/token answers a blocked pair (spec §3.3), with
 * Auth0's text whichever guard refused (apps match on it). An identifier's back-off (issue 10 §2)
 * ends at `retryAt`: then Retry-After says when (RFC 9110 §10.2.3).
 */
export const tooManyAttempts = (retryAt?: number, now?: number) =>
  new OAuthError(429, 'too_many_attempts', TOO_MANY_ATTEMPTS, retryAt !== undefined && now !== undefined
    ? { headers: { 'retry-after': String(Math.max(1, Math.ceil((retryAt - now) / 1000))) } }
    : {});

/** Who is guessing, at which application and connection: what a verification tells the guard. */
export interface BruteForceGuard {
  ctx: RequestContext;
  client: Pick<Client, 'client_id' | 'name'>;
  connection: Connection;
}

/** `options.brute_force_protection` is on unless set to false (Auth0's default; bootstrap sets true). */
export const protectionOn = (connection: Connection): boolean => connection.options.brute_force_protection !== false;

const pair = (g: BruteForceGuard, identifier: string, perIp: boolean): LoginFailureKey => ({ identifier, ip: perIp ? ipKey(g.ctx.ip) : ANY_IP, connection: g.connection.name });

/** What the guard knows of the pair before a verification. */
export interface PairState {
  /** Blocked now: the verification must stop before the code is looked at or an attempt spent. */
  blocked: boolean;
  /** Failures counted so far (a success only needs to clear them when there are some). */
  failures: number;
}

const CLEAR: PairState = { blocked: false, failures: 0 };

export async function pairState(s: Services, g: BruteForceGuard, identifier: string): Promise<PairState> {
  const on = await policyFor(s, g);
  if (!on) return CLEAR;
  const row = await s.store.getLoginBlock(pair(g, identifier, on.perIp));
  if (!row) return CLEAR;
  return { blocked: row.blocked_until !== null && row.blocked_until > s.now(), failures: row.failures };
}

/**
 * One failed guess for the pair. The store counts and blocks atomically; the failure that reaches the
 * threshold (exactly one, however many race) writes the `limit_wc` log with it (spec §6, LOGCODES
 * "Blocked Account"). The log names the identifier and IP, never the code.
 */
export async function recordFailure(s: Services, g: BruteForceGuard, identifier: string): Promise<void> {
  const on = await policyFor(s, g);
  if (!on) return;
  const now = s.now();
  const { policy } = on;
  const log = makeLog('limit_wc', g.ctx, {
    ...passwordlessFields(g.client, g.connection),
    user_name: identifier,
    description: `IP ${g.ctx.ip} reached the maximum failed login attempts into a single account`,
    details: { identifier, failures: policy.threshold, blocked_until: new Date(now + policy.blockMs).toISOString() },
  }, now);
  await s.store.recordLoginFailure(pair(g, identifier, on.perIp), now, policy, log);
}

/** A proven code: the pair's failures are forgotten (a running block is not lifted). */
export async function recordSuccess(s: Services, g: BruteForceGuard, identifier: string, before: PairState): Promise<void> {
  if (before.failures === 0) return;
  const on = await policyFor(s, g);
  if (!on) return;
  await s.store.clearLoginFailures(pair(g, identifier, on.perIp), s.now());
}
