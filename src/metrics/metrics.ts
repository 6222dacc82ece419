import { statSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LogEvent } from '../core/model.ts';
import type { Store } from '../store/types.ts';
import { MAIL_OUTCOMES, type MailOutcome } from './observe-store.ts';

/** What the PostgreSQL pool reports (pg.Pool's own counters, read at scrape time). */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** What a scrape reads from the database side: the store, and the pool or the SQLite file. */
export interface DbProbe {
  store: Store;
  pool?: PoolStats;
  /** SQLite file path (not `:memory:`): its size and its WAL's are reported. */
  sqliteFile?: string;
}


/**
 * Log types that mean a limit or guard refused something (Auth0 LOGCODES): the per-IP limits
 * (`api_limit`, labelled by bucket), the brute-force block of an (identifier, IP) pair or an
 * identifier's back-off (`limit_wc`), the per-identifier start cap (`limit_mu`) and the SMS
 * toll-fraud guards (`limit_phone`, labelled by guard).
 */
const LIMIT_TYPES = new Set(['api_limit', 'limit_wc', 'limit_mu', 'limit_phone']);

/**
 * Sesame's Prometheus metrics (issue 13 §4), one registry per application so that two servers in
 * one process (tests) never mix their counts. Every method called on a request's path is a counter
 * or histogram update: O(1), no I/O. Gauges that need the database (outbox depth and age, pool)
 * are computed when Prometheus scrapes, by one query.
 */
export class Metrics {
  readonly registry = new Registry();
  /** The metrics listener's URL when SESAME_METRICS_PORT serves them (set by server.ts listen()). */
  url: string | undefined;
  readonly #http: Histogram<'method' | 'route' | 'status'>;
  readonly #issued: Counter<'channel' | 'kind'>;
  readonly #verifications: Counter<'channel' | 'outcome'>;
  readonly #depnotes: Counter;
  readonly #limits: Counter<'limit'>;
  readonly #mail: Counter<'outcome'>;
  readonly #sms: Counter<'provider' | 'outcome'>;

  constructor(db: DbProbe) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sesame_' });
    this.#http = new Histogram({
      name: 'sesame_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern (never the raw URL) and status, with their latency.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#issued = new Counter({ name: 'sesame_passwordless_issued_total', help: 'Codes and magic links issued (committed with their message).', labelNames: ['channel', 'kind'], registers });
    this.#verifications = new Counter({
      name: 'sesame_passwordless_verifications_total',
      help: 'Code and link checks by outcome: verified, wrong, exhausted, expired, blocked (brute-force protection).',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    this.#depnotes = new Counter({ name: 'sesame_depnotes_total', help: 'Deprecation notices (depnote logs): unauthenticated /passwordless/start calls of confidential clients.', registers });
    this.#limits = new Counter({ name: 'sesame_limit_trips_total', help: 'Requests refused or blocks set by a limit or guard, by log type and bucket or guard.', labelNames: ['limit'], registers });
    this.#mail = new Counter({ name: 'sesame_mail_sends_total', help: 'Outbox messages by send outcome: sent, retry (will be tried again), failed (given up, fn log).', labelNames: ['outcome'], registers });
    this.#sms = new Counter({ name: 'sesame_sms_sends_total', help: 'SMS sends by provider and outcome (sent, failed).', labelNames: ['provider', 'outcome'], registers });
    for (const outcome of MAIL_OUTCOMES) this.#mail.inc({ outcome }, 0);

    // Both outbox gauges come from one query per scrape: the registry collects every metric at
    // once, so the second collect finds the first one's query in flight and shares it.
    let inFlight: ReturnType<Store['outboxBacklog']> | undefined;
    const backlog = () => (inFlight ??= db.store.outboxBacklog().finally(() => (inFlight = undefined)));
    new Gauge({
      name: 'sesame_outbox_pending',
      help: 'Messages waiting in the outbox (read at scrape time).',
      registers,
      async collect() {
        this.set((await backlog()).pending);
      },
    });
    new Gauge({
      name: 'sesame_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest waiting message; 0 when none (read at scrape time).',
      registers,
      async collect() {
        const { oldestCreatedAt } = await backlog();
        this.set(oldestCreatedAt === null ? 0 : Math.max(0, (Date.now() - oldestCreatedAt) / 1000));
      },
    });
    if (db.pool) {
      const pool = db.pool;
      new Gauge({
        name: 'sesame_db_pool_connections',
        help: 'PostgreSQL pool connections by state (total, idle).',
        labelNames: ['state'],
        registers,
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
        },
      });
      new Gauge({ name: 'sesame_db_pool_waiting', help: 'Queries waiting for a PostgreSQL connection.', registers, collect() { this.set(pool.waitingCount); } });
    }
    if (db.sqliteFile) {
      const file = db.sqliteFile;
      // SQLite has one connection and no pool; what an operator watches is the file and its WAL
      // (a WAL that keeps growing means checkpoints cannot keep up).
      new Gauge({
        name: 'sesame_db_sqlite_bytes',
        help: 'Size of the SQLite database file and of its write-ahead log.',
        labelNames: ['file'],
        registers,
        collect() {
          this.set({ file: 'db' }, statSync(file, { throwIfNoEntry: false })?.size ?? 0);
          this.set({ file: 'wal' }, statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
        },
      });
    }
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.#http.observe({ method, route, status: String(status) }, seconds);
  }

  /** A code or link check (core/otp.ts); `ok` results are `verified`. */
  verification(channel: string, outcome: string): void {
    this.#verifications.inc({ channel, outcome });
  }

  sms(provider: string, outcome: 'sent' | 'failed'): void {
    this.#sms.inc({ provider, outcome });
  }

  mail(outcome: MailOutcome, n = 1): void {
    if (n > 0) this.#mail.inc({ outcome }, n);
  }

  /** Log events the store committed: issued codes and links, depnotes, limit and guard trips. */
  logs(logs: readonly LogEvent[]): void {
    for (const log of logs) {
      if (log.type === 'cs' || log.type === 'cls') {
        this.#issued.inc({ channel: log.strategy === 'sms' ? 'sms' : 'email', kind: log.type === 'cls' ? 'link' : 'code' });
      } else if (log.type === 'depnote') this.#depnotes.inc();
      else if (LIMIT_TYPES.has(log.type)) this.#limits.inc({ limit: limitLabel(log) });
    }
  }
}

/** `api_limit:passwordless-start-per-ip`, `limit_phone:daily_limit`, or the bare type. */
function limitLabel(log: LogEvent): string {
  const details = log.details as { limit?: { bucket?: unknown }; guard?: unknown } | undefined;
  const sub = details?.limit?.bucket ?? details?.guard;
  return typeof sub === 'string' ? `${log.type}:${sub}` : log.type;
}
