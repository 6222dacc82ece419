/**
 * The one place that tells what a database driver's error means for a request (issue 11). Drivers
 * are never imported here: errors are read structurally (`code`, `message`), so the core stays free
 * of `pg` and `better-sqlite3` (STYLE.md §10).
 *
 * - `unavailable`: the database cannot be reached or dropped the connection (a restart, a failover,
 *   `pg_terminate_backend`, a full pool). Transient: the request may be retried, so it is a 503.
 * - `failed`: any other driver error (a constraint, bad input that slipped through). A 500 whose
 *   text never reaches a response: driver messages quote SQL and input.
 * - undefined: not a database error.
 */
export type DbErrorKind = 'unavailable' | 'failed';

/** PostgreSQL SQLSTATEs of a lost or refused connection (PostgreSQL docs, Appendix A). */
const PG_UNAVAILABLE = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, smart/fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, recovery
  '53300', // too_many_connections
  '40001', // serialization_failure: retrying the request may succeed
  '40P01', // deadlock_detected: as above
]);

/** `ALTER DATABASE … ALLOW_CONNECTIONS false` (maintenance): 55000 with this text, at connect. */
const NOT_ACCEPTING = 'is not currently accepting connections';

/** Socket-level failures (Node's errno codes) on the way to the database. */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * pg's own errors carry no code: a pool that cannot hand out a client in time, a socket that closed
 * under a query, a client used after its connection ended.
 */
const PG_DRIVER_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'terminating connection',
];

export function classifyDbError(err: unknown): DbErrorKind | undefined {
  if (!(err instanceof Error)) return undefined;
  if (PG_DRIVER_MESSAGES.some((m) => err.message.includes(m)) || err.message.includes(NOT_ACCEPTING)) return 'unavailable';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (PG_UNAVAILABLE.has(code) || code.startsWith('08')) return 'unavailable';
    if (NET_CODES.has(code)) return 'unavailable';
    // better-sqlite3: the lock stayed taken past busy_timeout.
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'unavailable';
    if (code.startsWith('SQLITE_')) return 'failed';
    // A SQLSTATE: five characters of digits and capitals (pg's DatabaseError).
    if (/^[0-9A-Z]{5}$/.test(code) && err.constructor.name === 'DatabaseError') return 'failed';
  }
  if (err.constructor.name === 'DatabaseError' || err.constructor.name === 'SqliteError') return 'failed';
  // An AggregateError from a connect that tried several addresses (localhost → ::1, 127.0.0.1).
  if (err instanceof AggregateError && err.errors.some((e) => classifyDbError(e) === 'unavailable')) return 'unavailable';
  return undefined;
}

/** For logs: the driver's code and message, never the SQL text or parameters it may carry. */
export function describeDbError(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: typeof e.message === 'string' ? e.message.slice(0, 300) : String(err) };
}

/**
 * The pool's handler for an idle connection the server ended: one warning per lost connection. The
 * pool has dropped it already and connects afresh on the next query.
 */
export function idleErrorLogger(log: { warn(obj: object, msg: string): void }): (err: Error) => void {
  return (err) => log.warn({ err: describeDbError(err) }, 'database connection lost while idle; reconnecting on demand');
}

/**
 * One background loop's view of the database (issue 11: "logged once"): a loop that polls through
 * an outage (the log-stream worker every second, the mail worker, /health as often as a load
 * balancer asks) would otherwise write the same failure on every poll. The first failure of an
 * outage is a warning, the first success after it one info line with how long it lasted and how
 * many polls failed; everything in between is counted, not logged.
 */
type Logger = { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };

export class OutageLog {
  readonly #log: Logger;
  readonly #what: string;
  #since: number | undefined;
  #failures = 0;

  constructor(log: Logger, what: string) {
    this.#log = log;
    this.#what = what;
  }

  failed(err: unknown): void {
    this.#failures++;
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.#log.warn({ err: describeDbError(err) }, `${this.#what}: database unreachable; retrying, and logging again once it is back`);
  }

  ok(): void {
    if (this.#since === undefined) return;
    this.#log.info({ down_ms: Date.now() - this.#since, failures: this.#failures }, `${this.#what}: database reachable again`);
    this.#since = undefined;
    this.#failures = 0;
  }
}
