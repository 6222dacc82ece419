/**
 * The store's part for the admin dashboard (issue 12): administrators, activity figures computed
 * with SQL GROUP BY (never by reading every log), and development-mode messages. Split from
 * types.ts by model (ARCHITECTURE.md, "split the store contract").
 */

/** An administrator added with `sesame admin add` (lower-cased email). */
export interface AdminRecord {
  email: string;
  /** Epoch ms. */
  created_at: number;
}

/** How many logs of one type fell in one bucket: `t` is the bucket's start, ISO 8601 UTC. */
export interface LogCount {
  t: string;
  type: string;
  n: number;
  /** Dates of the bucket's first and last log of that type (ISO 8601). */
  first: string;
  last: string;
}

/** A message the development console "sent" (no SMTP provider): kept for the dev outbox. */
export interface DevOutboxRow {
  id: number;
  recipient: string;
  /** Rendered `{from, subject, html, text}`: holds the code or link; shown to administrators only. */
  payload: string;
  meta: Record<string, string>;
  created_at: number;
}

export interface DashboardStore {
  listAdmins(): Promise<AdminRecord[]>;
  /** Inserts the administrator unless present (one statement); true if it was added. */
  addAdmin(email: string, now: number): Promise<boolean>;
  removeAdmin(email: string): Promise<boolean>;
  isStoredAdmin(email: string): Promise<boolean>;

  /**
   * Counts logs of `types` dated in [from, to) (ISO 8601), grouped by hour or by UTC day and type:
   * one GROUP BY over the `logs_type_date` index.
   */
  countLogs(from: string, to: string, bucket: 'hour' | 'day', types: readonly string[]): Promise<LogCount[]>;
  /** Distinct users with a successful login (`s`) dated at or after `since` (ISO 8601). */
  countActiveUsers(since: string): Promise<number>;

  /** Messages sent by the development console, newest first (their payload is kept, see markSentMany). */
  listDevOutbox(opts: { page: number; perPage: number }): Promise<{ items: DevOutboxRow[]; total: number }>;
}
