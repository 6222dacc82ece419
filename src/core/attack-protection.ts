import { BlockList, isIP } from 'node:net';
import type { Services } from '../services.ts';
import { ipKey } from './ip-key.ts';
import { type LimitState, hitWindow } from './rate-limit.ts';

/**
 * Auth0's attack-protection settings for the two protections Sesame has (issue 14), kept as tenant
 * settings in the store (`settings` rows, cached like all reference data and versioned across
 * instances: store/sql/ref-cache.ts), so a PATCH is enforced by every instance from its next request.
 *
 * - Brute-force protection (spec §7, BFP): `max_attempts` failed verifications for one identifier
 *   (from one IP, or from any with `mode: count_per_identifier`) block it; drives core/brute-force.ts.
 * - Suspicious-IP throttling: the per-IP budget of code/link starts; drives the start limit of
 *   /passwordless/start, the hosted page's sends and /co/authenticate. SESAME_START_LIMIT_PER_HOUR
 *   is the default until the setting is written.
 *
 * Of the shields Sesame honours `block` only: it sends no notification mails, so `user_notification`
 * and `admin_notification` are kept and shown, and do nothing (docs/auth0-compat.md).
 */

export const HOUR = 3_600_000;

export interface BruteForceSettings {
  enabled: boolean;
  shields: ('block' | 'user_notification')[];
  allowlist: string[];
  mode: 'count_per_identifier_and_ip' | 'count_per_identifier';
  max_attempts: number;
}

export interface ThrottlingStage {
  max_attempts: number;
  /** Milliseconds after which one more attempt is granted (Auth0's definition). */
  rate: number;
}

export interface ThrottlingSettings {
  enabled: boolean;
  shields: ('block' | 'admin_notification')[];
  allowlist: string[];
  stage: { 'pre-login': ThrottlingStage; 'pre-user-registration': ThrottlingStage };
}

export const BRUTE_FORCE_SETTING = 'attack_protection.brute_force_protection';
export const THROTTLING_SETTING = 'attack_protection.suspicious_ip_throttling';

/** Auth0's defaults, which are Sesame's own (10 failures per identifier and IP, spec §7). */
export const BRUTE_FORCE_DEFAULTS: BruteForceSettings = {
  enabled: true, shields: ['block', 'user_notification'], allowlist: [], mode: 'count_per_identifier_and_ip', max_attempts: 10,
};

/** Auth0's registration stage default: Sesame creates users at their first verified code, so it is stored only. */
const REGISTRATION_DEFAULT: ThrottlingStage = { max_attempts: 50, rate: 1_728_000 };

/**
 * SESAME_START_LIMIT_PER_HOUR as Auth0 names it: `limit` attempts, one more every hour / `limit`
 * (a full budget per hour). `0` (no limit) reads as disabled with Auth0's default stage (100 per day).
 */
export function throttlingDefaults(limitPerHour: number): ThrottlingSettings {
  const preLogin = limitPerHour > 0 ? { max_attempts: limitPerHour, rate: Math.max(1, Math.round(HOUR / limitPerHour)) } : { max_attempts: 100, rate: 864_000 };
  return { enabled: limitPerHour > 0, shields: ['block', 'admin_notification'], allowlist: [], stage: { 'pre-login': preLogin, 'pre-user-registration': REGISTRATION_DEFAULT } };
}

export async function bruteForceSettings(s: Services): Promise<BruteForceSettings> {
  return { ...BRUTE_FORCE_DEFAULTS, ...(await s.store.getSetting<Partial<BruteForceSettings>>(BRUTE_FORCE_SETTING)) };
}

export async function throttlingSettings(s: Services): Promise<ThrottlingSettings> {
  return (await readThrottling(s)).settings;
}

/** The stored setting over the defaults, stage by stage. */
export function withThrottlingDefaults(limitPerHour: number, stored: Partial<ThrottlingSettings> | undefined): ThrottlingSettings {
  const defaults = throttlingDefaults(limitPerHour);
  return stored ? { ...defaults, ...stored, stage: { ...defaults.stage, ...stored.stage } } : defaults;
}

/** The settings in force, and whether `pre-login` was written (else it is SESAME_START_LIMIT_PER_HOUR's). */
async function readThrottling(s: Services): Promise<{ settings: ThrottlingSettings; preLoginSet: boolean }> {
  const stored = await s.store.getSetting<Partial<ThrottlingSettings>>(THROTTLING_SETTING);
  return { settings: withThrottlingDefaults(s.config.startLimitPerHour, stored), preLoginSet: stored?.stage?.['pre-login'] !== undefined };
}

/** An allowlist entry: an IPv4/IPv6 address or CIDR block (Auth0: ipv4 | cidr | ipv6 | ipv6_cidr). */
export function validAllowlistEntry(entry: string): boolean {
  const [addr = '', prefix, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** An IPv4-mapped IPv6 peer (`::ffff:192.0.2.1`) is matched as the IPv4 client it wraps. */
const unmapped = (ip: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;

/** True when `ip` is one of the allowlist's addresses or inside one of its blocks (never enforced against). */
export function allowlisted(allowlist: readonly string[], ip: string): boolean {
  if (allowlist.length === 0) return false;
  const peer = unmapped(ip);
  const family = isIP(peer);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of allowlist) {
    if (!validAllowlistEntry(entry)) continue;
    const [addr, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(prefix), type);
  }
  return list.check(peer, family === 4 ? 'ipv4' : 'ipv6');
}

/** The per-IP start budget in force for `ip`: `limit` starts per `windowMs`, or null when none applies. */
export interface StartBudget {
  limit: number;
  windowMs: number;
}

/**
 * Sesame counts starts in fixed windows; Auth0's bucket refills one attempt every `rate` ms up to
 * `max_attempts`, so a window of `max_attempts × rate` (a full refill) holds `max_attempts` starts.
 * While `pre-login` is SESAME_START_LIMIT_PER_HOUR's, the window is exactly one hour, as that setting says.
 */
export async function startBudget(s: Services, ip: string): Promise<StartBudget | null> {
  const { settings: t, preLoginSet } = await readThrottling(s);
  if (!t.enabled || !t.shields.includes('block') || allowlisted(t.allowlist, ip)) return null;
  const { max_attempts: limit, rate } = t.stage['pre-login'];
  return { limit, windowMs: preLoginSet || s.config.startLimitPerHour <= 0 ? limit * rate : HOUR };
}

/**
 * Counts one start from `ip` against its budget (`bucket` keeps the start and /co/authenticate
 * counters apart; `factor` scales the budget for the latter). Null when no budget applies.
 */
export async function hitStartBudget(s: Services, bucket: 'start' | 'co', ip: string, now: number, factor = 1): Promise<LimitState | null> {
  const budget = await startBudget(s, ip);
  if (!budget) return null;
  return hitWindow(s.store, `${bucket}:${ipKey(ip)}`, budget.limit * factor, budget.windowMs, now);
}
