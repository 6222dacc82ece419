import { ApiFailure } from './api.ts';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** ISO-8601 date or date-time (with optional offset), as `--since 2026-11-01` or `…T10:00:00Z`. */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export interface Window {
  since: number;
  until: number;
}

/** `--since <n>s|m|h|d` (before `now`) or an ISO-8601 timestamp; the window ends at `now`. */
export function parseWindow(since: string, now: number): Window {
  const rel = /^(\d{1,9})([smhd])$/.exec(since.trim());
  if (rel) return { since: now - Number(rel[1]) * UNITS[rel[2]!]!, until: now };
  if (ISO.test(since.trim())) {
    const t = Date.parse(since.trim());
    if (Number.isNaN(t)) throw new ApiFailure(`--since: not a valid date: ${since}`);
    if (t > now) throw new ApiFailure(`--since is in the future: ${since}`);
    return { since: t, until: now };
  }
  throw new ApiFailure(`--since must be <n>s, <n>m, <n>h, <n>d or an ISO-8601 timestamp (got "${since}")`);
}
