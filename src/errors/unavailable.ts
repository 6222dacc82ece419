/**
 * The database (or another backing service) cannot be reached right now: a 503 with Retry-After on
 * every surface, in that surface's envelope (error-handler.ts). Transient by nature, unlike a 500.
 * `cause` keeps the driver's error for the log line; it never reaches a response.
 */
export class ServiceUnavailable extends Error {
  readonly status = 503;
  /** Seconds a client should wait before retrying (RFC 9110 §10.2.3). */
  readonly retryAfter: number;
  constructor(cause?: unknown, retryAfter = 5) {
    super('The service is temporarily unavailable. Try again in a few seconds.', { cause });
    this.retryAfter = retryAfter;
  }
}
