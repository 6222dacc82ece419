import type { Services } from '../services.ts';
import type { LogCount } from '../store/dashboard-types.ts';

/**
 * Figures for the dashboard's Activity page (issue 12), from log counts grouped in SQL
 * (Store.countLogs), never by reading logs. Which Auth0 log types count as what:
 */
export const ACTIVITY_TYPES = {
  logins: ['s'],
  // Failed sign-ins and failed exchanges of a code, link, ticket or refresh token (LOGCODES).
  failures: ['f', 'fu', 'fp', 'fepotpft', 'fcoa', 'feacft', 'fertft'],
  codes_sent: ['cs'],
  links_sent: ['cls'],
  depnotes: ['depnote'],
} as const;
export type ActivityCounts = Record<keyof typeof ACTIVITY_TYPES, number>;

const ALL_TYPES = Object.values(ACTIVITY_TYPES).flat();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Activity {
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  series: ({ t: string } & ActivityCounts)[];
  today: ActivityCounts;
}

const zero = (): ActivityCounts => ({ logins: 0, failures: 0, codes_sent: 0, links_sent: 0, depnotes: 0 });

function add(into: ActivityCounts, c: LogCount): void {
  for (const [key, types] of Object.entries(ACTIVITY_TYPES) as [keyof ActivityCounts, readonly string[]][]) {
    if (types.includes(c.type)) into[key] += c.n;
  }
}

/** `24h`: the last 24 whole hours up to the current one; `7d`: the last 7 UTC days up to today. */
export async function activity(s: Services, window: '24h' | '7d'): Promise<Activity> {
  const now = s.now();
  const bucket = window === '24h' ? 'hour' : 'day';
  const size = bucket === 'hour' ? HOUR : DAY;
  const end = Math.floor(now / size) * size + size;
  const start = end - (window === '24h' ? 24 : 7) * size;
  const dayStart = Math.floor(now / DAY) * DAY;
  const [counts, todayCounts] = await Promise.all([
    s.store.countLogs(iso(start), iso(end), bucket, ALL_TYPES),
    s.store.countLogs(iso(dayStart), iso(dayStart + DAY), 'day', ALL_TYPES),
  ]);
  const series = new Map<string, { t: string } & ActivityCounts>();
  for (let t = start; t < end; t += size) series.set(iso(t), { t: iso(t), ...zero() });
  for (const c of counts) {
    const point = series.get(c.t);
    if (point) add(point, c);
  }
  const today = zero();
  for (const c of todayCounts) add(today, c);
  return { from: iso(start), to: iso(end), bucket, series: [...series.values()], today };
}

export interface DailyStats {
  date: string;
  logins: number;
  signups: number;
  leaked_passwords: number;
  updated_at: string | null;
  created_at: string | null;
}

/**
 * Auth0's `GET /api/v2/stats/daily`: one entry per UTC day of [from, to] (inclusive): logins (`s`),
 * signups (`ss`); passwordless has no breached passwords (0). `created_at`/`updated_at` are the
 * day's first and last counted event (Auth0: "approximate date and time the first event occurred").
 */
export async function dailyStats(s: Services, fromDay: number, toDay: number): Promise<DailyStats[]> {
  const counts = await s.store.countLogs(iso(fromDay), iso(toDay + DAY), 'day', ['s', 'ss']);
  const out: DailyStats[] = [];
  for (let d = fromDay; d <= toDay; d += DAY) {
    const day = counts.filter((c) => c.t === iso(d));
    const of = (type: string) => day.find((c) => c.type === type)?.n ?? 0;
    const firsts = day.map((c) => c.first).sort();
    const lasts = day.map((c) => c.last).sort();
    out.push({ date: iso(d), logins: of('s'), signups: of('ss'), leaked_passwords: 0, created_at: firsts[0] ?? null, updated_at: lasts.at(-1) ?? null });
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();
