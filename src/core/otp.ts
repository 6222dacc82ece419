import type { CodeKey, CodeRecord } from '../store/types.ts';
import type { Services } from '../services.ts';
import type { GuessAdmission } from '../store/identifier-limits.ts';
import { type BruteForceGuard, pairState, protectionOn, recordFailure, recordSuccess } from './brute-force.ts';
import { admitGuess, recordIdentifierFailure, recordIdentifierSuccess } from './identifier-limits.ts';
import { randomDigits } from './crypto.ts';
import type { Connection } from './model.ts';

const OTP_PURPOSE = 'otp';
/** Auth0: three failed attempts per code, then a new code is needed (spec §3.2, PL-BP). */
export const MAX_ATTEMPTS = 3;

/**
 * Spec §3.3: the exact strings apps match on (BLOCKSCOUT, Auth0.swift), shared by every place that
 * checks a code: /oauth/token, /co/authenticate, /passwordless/verify and the hosted page.
 */
export const OTP_ERRORS = {
  wrong: { email: 'Wrong email or verification code.', sms: 'Wrong phone number or verification code.' },
  exhausted: "You've reached the maximum number of attempts. Please try to login again.",
  expired: 'The verification code has expired. Please try to login again.',
} as const;

export interface OtpSettings {
  length: number;
  ttlMs: number;
}

/**
 * Connection `options.totp` {length, time_step}; Auth0 defaults 6 digits and 180 s for email, 300 s
 * for SMS (spec §4: Auth0's SMS connection example; a text can take a while to arrive).
 */
export function otpSettings(conn: Connection): OtpSettings {
  const totp = (conn.options.totp ?? {}) as { length?: number; time_step?: number };
  return { length: totp.length ?? 6, ttlMs: (totp.time_step ?? (conn.strategy === 'sms' ? 300 : 180)) * 1000 };
}

/** Why a `totp` option is unacceptable, or undefined. Below 6 digits is guessable; above 600 s is too long-lived. */
export function validateTotp(totp: unknown): string | undefined {
  if (totp === undefined) return undefined;
  if (!totp || typeof totp !== 'object' || Array.isArray(totp)) return 'options.totp must be an object';
  const { length, time_step } = totp as Record<string, unknown>;
  if (length !== undefined && (!Number.isInteger(length) || (length as number) < 6 || (length as number) > 10)) {
    return 'options.totp.length must be an integer from 6 to 10';
  }
  if (time_step !== undefined && (!Number.isInteger(time_step) || (time_step as number) < 1 || (time_step as number) > 600)) {
    return 'options.totp.time_step must be an integer from 1 to 600 (seconds)';
  }
  return undefined;
}

const material = (key: CodeKey, code: string) => `${key.connection_id}\0${key.identifier}\0${key.client_id}\0${code}`;

/** A fresh code and the record to store; the code itself goes only into the outbox message. */
export function newCode(
  s: Services, key: CodeKey, settings: OtpSettings, params: Record<string, string>, code: string = randomDigits(settings.length),
): { code: string; record: CodeRecord } {
  const now = s.now();
  return {
    code,
    record: { ...key, code_hash: s.keyring.hash(OTP_PURPOSE, material(key, code)), expires_at: now + settings.ttlMs, attempts: 0, params, created_at: now },
  };
}

export type VerifyResult =
  | { ok: true; record: CodeRecord }
  /**
   * `blocked`: brute-force protection stopped the guess before the code was looked at: a blocked
   * (identifier, IP) pair (core/brute-force.ts), or the identifier's back-off across all IPs
   * (core/identifier-limits.ts), which ends at `retryAt` (epoch ms).
   */
  | { ok: false; reason: 'wrong' | 'exhausted' | 'expired' | 'blocked'; retryAt?: number };

/** Takes an attempt slot (atomic) and compares in constant time; the code stays stored. */
async function attempt(s: Services, key: CodeKey, code: string): Promise<VerifyResult> {
  const slot = await s.store.takeAttempt(key, MAX_ATTEMPTS);
  if (slot.kind === 'missing') return { ok: false, reason: 'wrong' };
  if (slot.kind === 'exhausted') return { ok: false, reason: 'exhausted' };
  const { record } = slot;
  if (record.expires_at <= s.now()) return { ok: false, reason: 'expired' };
  if (!s.keyring.verify(OTP_PURPOSE, material(key, code), record.code_hash)) return { ok: false, reason: 'wrong' };
  return { ok: true, record };
}

/** A guess brute-force protection stopped, counted like any other outcome (metrics). */
function refused(s: Services, guard: BruteForceGuard, result: VerifyResult & { ok: false }): VerifyResult {
  s.metrics?.verification(guard.connection.strategy, result.reason);
  return result;
}

const FREE: GuessAdmission = { admitted: true, charged: false, failures: 0 };

/**
 * Brute-force protection around a guess (spec §7, BFP; issue 10 §2): a blocked (identifier, IP)
 * pair, or an identifier waiting out its back-off, is refused before the code is read or an attempt
 * taken; every failed guess counts for the pair and the identifier, a right one clears both counts.
 */
async function guarded(s: Services, key: CodeKey, guard: BruteForceGuard, guess: () => Promise<VerifyResult>): Promise<VerifyResult> {
  const before = await pairState(s, guard, key.identifier);
  if (before.blocked) return refused(s, guard, { ok: false, reason: 'blocked' });
  const admission = protectionOn(guard.connection) ? await admitGuess(s, guard.connection, key.identifier) : FREE;
  if (!admission.admitted) return refused(s, guard, { ok: false, reason: 'blocked', retryAt: admission.retryAt });
  const result = await guess();
  s.metrics?.verification(guard.connection.strategy, result.ok ? 'verified' : result.reason);
  if (result.ok) {
    await Promise.all([recordSuccess(s, guard, key.identifier, before), recordIdentifierSuccess(s, guard.connection, key.identifier, admission)]);
  } else {
    await Promise.all([
      recordFailure(s, guard, key.identifier),
      recordIdentifierFailure(s, guard.client, guard.connection, key.identifier, guard.ctx, admission),
    ]);
  }
  return result;
}

/**
 * Checks a code without consuming it (a magic link opened in another browser): the attempt counts
 * like any guess, and a right code gets its budget back so that opening the link again still works.
 */
export async function checkCode(s: Services, key: CodeKey, code: string, guard: BruteForceGuard): Promise<VerifyResult> {
  return guarded(s, key, guard, async () => {
    const result = await attempt(s, key, code);
    if (result.ok) await s.store.resetAttempts(key, result.record.code_hash);
    return result;
  });
}

/**
 * Verifies a code: take an attempt slot (atomic), compare in constant time, consume (atomic). However
 * many guesses race, at most MAX_ATTEMPTS comparisons happen and at most one caller wins.
 */
export async function verifyCode(s: Services, key: CodeKey, code: string, guard: BruteForceGuard): Promise<VerifyResult> {
  let lostRace = false;
  const result = await guarded(s, key, guard, async () => {
    const r = await attempt(s, key, code);
    // A right code that a concurrent submission consumed first is no guess: not counted as a failure.
    if (r.ok && !(await s.store.consumeCode(key, r.record.code_hash))) lostRace = true;
    return r;
  });
  return lostRace ? { ok: false, reason: 'wrong' } : result;
}
