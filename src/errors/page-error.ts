/**
 * An error shown to a person in the browser (the hosted pages, /authorize before a redirect_uri is
 * trusted, a magic link that cannot be used, /v2/logout): rendered as an HTML page by the error
 * handler, never as JSON and never as a redirect to an unverified URL.
 */
export class PageError extends Error {
  readonly status: number;
  /** Short machine-readable reason, also shown on the page (e.g. `invalid_request`). */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
