import { randomBytes } from 'node:crypto';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Services } from '../services.ts';
import type { BackoffPolicy, GuessAdmission, IdentifierKey } from '../store/identifier-limits.ts';
import type { WindowLimit } from '../store/types.ts';
import { type RequestContext, makeLog, passwordlessFields } from './logs.ts';
import type { Client, Connection } from './model.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** First wait once an identifier is in back-off; each further failure doubles it (up to the configured maximum). */
const BASE_DELAY_MS = 60_000;

/**
 * Issue 10 §2. Auth0's limits are per IP (start: 50/h; brute force: 10 failures per identifier and
 * IP), so an attacker with many addresses (one IPv6 /64 is 2^64 of them) gets fresh codes, hence
 * fresh tries, and fresh pairs without end. These limits hold per identifier whatever the IP:
 * - starts: at most SESAME_IDENTIFIER_STARTS_PER_HOUR / _PER_DAY codes or links per identifier
 *   and connection (sliding windows, exact), which also stops a mailbox or phone being flooded;
 * - failed verifications: from the SESAME_IDENTIFIER_FAILURE_LIMIT-th failure on, each failure
 *   makes the next guess wait (1 min, 2, 4, … up to SESAME_IDENTIFIER_MAX_DELAY_SECONDS): a short,
 *   growing delay rather than Auth0's 30-day block, so an attacker cannot lock the real user out.
 */
export function backoffPolicy(s: Services): BackoffPolicy | null {
  const { identifierFailureLimit: threshold, identifierMaxDelaySeconds } = s.config;
  if (threshold <= 0) return null;
  const maxMs = identifierMaxDelaySeconds * 1000;
  return { threshold, baseMs: Math.min(BASE_DELAY_MS, maxMs), maxMs, decayMs: DAY };
}

/** The window under which an identifier's starts are counted (one event per start, for both caps). */
export const startWindowKeys = (k: IdentifierKey): string[] => [`start-id:${k.connection}:${k.identifier}`];

export const TOO_MANY_STARTS = 'Too many codes or links were requested for this email or phone number. Please try again later.';

/**
 * Counts a start against the identifier's hourly and daily caps, atomically (Store.reserveWindows:
 * a refused start counts for nothing, concurrent starts cannot slip past). A refusal is 429
 * `too_many_requests` with Retry-After; its first refusal per episode writes a `limit_mu` log
 * (LOGCODES "Blocked Account - Too many attempts") and shows in `/api/v2/user-blocks`.
 */
export async function reserveIdentifierStart(
  s: Services, client: Client, connection: Connection, identifier: string, ctx: RequestContext, now: number,
): Promise<void> {
  const { identifierStartsPerHour: perHour, identifierStartsPerDay: perDay } = s.config;
  const key: IdentifierKey = { identifier, connection: connection.name };
  const [windowKey] = startWindowKeys(key) as [string];
  const limits: WindowLimit[] = [];
  if (perHour > 0) limits.push({ key: windowKey, max: perHour, windowMs: HOUR });
  if (perDay > 0) limits.push({ key: windowKey, max: perDay, windowMs: DAY });
  if (!limits.length) return;
  const r = await s.store.reserveWindows(limits, now, randomBytes(12).toString('hex'));
  if (r.ok) return;
  const bucket = r.limit.windowMs === HOUR ? 'per_hour' : 'per_day';
  const log = makeLog('limit_mu', ctx, {
    ...passwordlessFields(client, connection),
    user_name: identifier,
    description: `Too many codes or links were requested for ${identifier} (${r.limit.max} ${bucket.replace('_', ' ')}, from any IP)`,
    details: { flow: 'passwordless-start', identifier, limit: { bucket: `identifier-starts-${bucket}`, size: r.limit.max }, reset_time: new Date(r.resetAt).toISOString() },
  }, now);
  await s.store.markStartsCapped(key, r.resetAt, now, log);
  throw new OAuthError(429, 'too_many_requests', TOO_MANY_STARTS, { headers: { 'retry-after': String(Math.max(1, Math.ceil((r.resetAt - now) / 1000))) } });
}

/** Before a guess: may it go ahead? (Always, when the back-off is off.) */
export async function admitGuess(s: Services, connection: Connection, identifier: string): Promise<GuessAdmission> {
  const policy = backoffPolicy(s);
  if (!policy) return { admitted: true, charged: false, failures: 0 };
  return s.store.admitGuess({ identifier, connection: connection.name }, s.now(), policy);
}

/**
 * After a failed guess: counted for the identifier (unless the admission already charged it). The
 * failure that starts the back-off writes one `limit_wc` (LOGCODES "Blocked Account - Failed
 * Logins"), naming the identifier, never the code.
 */
export async function recordIdentifierFailure(
  s: Services, client: Pick<Client, 'client_id' | 'name'>, connection: Connection, identifier: string, ctx: RequestContext, admission: GuessAdmission,
): Promise<void> {
  const policy = backoffPolicy(s);
  if (!policy || (admission.admitted && admission.charged)) return;
  const now = s.now();
  const log = makeLog('limit_wc', ctx, {
    ...passwordlessFields(client, connection),
    user_name: identifier,
    description: `${identifier} reached ${policy.threshold} failed verifications from all IPs: each further failure delays the next attempt`,
    details: { identifier, failures: policy.threshold, scope: 'identifier', first_delay_seconds: policy.baseMs / 1000, max_delay_seconds: policy.maxMs / 1000 },
  }, now);
  await s.store.recordIdentifierFailure({ identifier, connection: connection.name }, now, policy, log);
}

/** A proven code: the identifier's failures and wait are forgotten (only a store write when there were some). */
export async function recordIdentifierSuccess(s: Services, connection: Connection, identifier: string, admission: GuessAdmission): Promise<void> {
  if (!admission.admitted || (!admission.charged && admission.failures === 0)) return;
  await s.store.clearIdentifierFailures({ identifier, connection: connection.name });
}
