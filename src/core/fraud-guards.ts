import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import type { WindowLimit } from '../store/types.ts';
import { ipRange } from './ip-key.ts';
import type { Client, Connection, TenantSettings } from './model.ts';

/**
 * SMS toll-fraud guards (issue 5 §4), on by default. Attackers pump premium numbers through open
 * start endpoints: each guard bounds one axis of such an attack (one number, one number range, one
 * network, one app), and the tenant's daily budget bounds the bill whatever the axis.
 */
export interface WindowGuard {
  max: number;
  window_seconds: number;
}
export interface FraudGuards {
  /** ISO 3166-1 alpha-2 regions whose numbers may be sent to; null = every region. */
  allowed_countries: string[] | null;
  per_number: WindowGuard | null;
  /** Numbers sharing their first `prefix_length` digits (country code included): premium ranges. */
  per_prefix: (WindowGuard & { prefix_length: number }) | null;
  /** Requests from one IPv4 /24 or IPv6 /48: one attacker's network. */
  per_ip_range: WindowGuard | null;
  per_client: WindowGuard | null;
}

export const DEFAULT_FRAUD_GUARDS: FraudGuards = {
  allowed_countries: null,
  per_number: { max: 5, window_seconds: 3600 },
  per_prefix: { max: 20, window_seconds: 3600, prefix_length: 8 },
  per_ip_range: { max: 30, window_seconds: 3600 },
  per_client: { max: 1000, window_seconds: 86400 },
};

/** Tenant-wide SMS per rolling 24 h (`sms_daily_budget` in /api/v2/tenants/settings). */
export const DEFAULT_SMS_DAILY_BUDGET = 10_000;
const DAY_MS = 86_400_000;
/** Longest window a guard may have; window events older than this are purged. */
export const MAX_WINDOW_SECONDS = 7 * 86_400;

export type GuardName = 'allowed_countries' | 'per_number' | 'per_prefix' | 'per_ip_range' | 'per_client' | 'sms_daily_budget';

const WINDOW_GUARDS = ['per_number', 'per_prefix', 'per_ip_range', 'per_client'] as const;

/** The guards in force: the connection's `options.fraud_guards` over the defaults, guard by guard. */
export function effectiveFraudGuards(options: Record<string, unknown>): FraudGuards {
  const given = (options.fraud_guards ?? {}) as Partial<FraudGuards>;
  const out = structuredClone(DEFAULT_FRAUD_GUARDS);
  if (given.allowed_countries !== undefined) out.allowed_countries = given.allowed_countries;
  for (const name of WINDOW_GUARDS) {
    const g = given[name];
    if (g === null) out[name] = null;
    else if (g !== undefined) (out as any)[name] = { ...(DEFAULT_FRAUD_GUARDS[name] as object), ...g };
  }
  return out;
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Why `options.fraud_guards` is unacceptable, or undefined. A guard set to null is off. */
export function validateFraudGuards(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'options.fraud_guards must be an object';
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key !== 'allowed_countries' && !(WINDOW_GUARDS as readonly string[]).includes(key)) {
      return `options.fraud_guards.${key} is not a guard (allowed_countries, ${WINDOW_GUARDS.join(', ')})`;
    }
  }
  const countries = v.allowed_countries;
  if (countries !== undefined && countries !== null) {
    if (!Array.isArray(countries) || countries.length > 250 || !countries.every((c) => typeof c === 'string' && /^[A-Z]{2}$/.test(c))) {
      return 'options.fraud_guards.allowed_countries must be null or a list of ISO 3166-1 alpha-2 codes in upper case (e.g. ["FR", "US"])';
    }
  }
  for (const name of WINDOW_GUARDS) {
    const g = v[name];
    if (g === undefined || g === null) continue;
    if (typeof g !== 'object' || Array.isArray(g)) return `options.fraud_guards.${name} must be an object or null`;
    const { max, window_seconds, prefix_length, ...rest } = g as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined || (name !== 'per_prefix' && prefix_length !== undefined)) {
      return `options.fraud_guards.${name}.${extra ?? 'prefix_length'} is not a setting of this guard`;
    }
    if (max !== undefined && !isInt(max, 1, 1_000_000_000)) return `options.fraud_guards.${name}.max must be an integer from 1 to 1000000000`;
    if (window_seconds !== undefined && !isInt(window_seconds, 1, MAX_WINDOW_SECONDS)) {
      return `options.fraud_guards.${name}.window_seconds must be an integer from 1 to ${MAX_WINDOW_SECONDS}`;
    }
    if (prefix_length !== undefined && !isInt(prefix_length, 1, 15)) return 'options.fraud_guards.per_prefix.prefix_length must be an integer from 1 to 15';
  }
  return undefined;
}

/** Why `sms_daily_budget` is unacceptable, or undefined (0 stops every SMS: a deliberate kill switch). */
export function validateSmsDailyBudget(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return isInt(value, 0, 1_000_000_000) ? undefined : 'sms_daily_budget must be an integer from 0 to 1000000000';
}

export interface SendRequest {
  connection: Connection;
  client: Client;
  tenant: TenantSettings;
  /** E.164 and its region (src/core/phone.ts). */
  phone: string;
  country: string | undefined;
  ip: string;
}

export type GuardOutcome =
  | { ok: true; ref: string }
  | { ok: false; guard: GuardName; retryAfterSeconds: number | null; resetAt: number | null };

/**
 * Checks every guard and, only if all pass, counts this send against each of them, atomically
 * (Store.reserveWindows): refused sends cost nothing, and concurrent sends cannot slip past a
 * limit. The returned `ref` releases the reservation if the provider then fails.
 */
export async function reserveSmsSend(s: Services, req: SendRequest, now: number): Promise<GuardOutcome> {
  const guards = effectiveFraudGuards(req.connection.options);
  if (guards.allowed_countries !== null && (req.country === undefined || !guards.allowed_countries.includes(req.country))) {
    return { ok: false, guard: 'allowed_countries', retryAfterSeconds: null, resetAt: null };
  }
  const conn = req.connection.id;
  const digits = req.phone.slice(1);
  const limits: (WindowLimit & { guard: GuardName })[] = [];
  const add = (guard: GuardName, g: WindowGuard | null, key: string) => {
    if (g) limits.push({ guard, key, max: g.max, windowMs: g.window_seconds * 1000 });
  };
  add('per_number', guards.per_number, `sms:${conn}:number:${req.phone}`);
  if (guards.per_prefix) add('per_prefix', guards.per_prefix, `sms:${conn}:prefix:${digits.slice(0, guards.per_prefix.prefix_length)}`);
  add('per_ip_range', guards.per_ip_range, `sms:${conn}:ip:${ipRange(req.ip)}`);
  add('per_client', guards.per_client, `sms:${conn}:client:${req.client.client_id}`);
  const budget = typeof req.tenant.sms_daily_budget === 'number' ? req.tenant.sms_daily_budget : DEFAULT_SMS_DAILY_BUDGET;
  limits.push({ guard: 'sms_daily_budget', key: 'sms:tenant:budget', max: budget, windowMs: DAY_MS });

  const ref = randomBytes(12).toString('hex');
  const r = await s.store.reserveWindows(limits.map(({ key, max, windowMs }) => ({ key, max, windowMs })), now, ref);
  if (r.ok) return { ok: true, ref };
  const tripped = limits.find((l) => l.key === r.limit.key)!;
  return { ok: false, guard: tripped.guard, resetAt: r.resetAt, retryAfterSeconds: Math.max(1, Math.ceil((r.resetAt - now) / 1000)) };
}
