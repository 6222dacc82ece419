/**
 * What the two SMS providers share: one POST per attempt with its own timeout, at most one retry and
 * only after a 5xx answer (issue 5 §2). A timeout is not retried: the provider may have accepted
 * the message, and a second wait would double the time /passwordless/start holds the request.
 */

/** A completed exchange: the status and the body (read under the same timeout). */
export interface Answer {
  status: number;
  body: string;
}

/** The request could not complete: `code` is `ETIMEDOUT` or the socket's errno (`ECONNREFUSED`…). */
export class TransportError extends Error {
  readonly code: string;
  constructor(code: string, options?: ErrorOptions) {
    super(code, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Read the answer's body (Twilio's JSON); otherwise it is discarded (the gateway's status is all that counts). */
  readBody: boolean;
}

/** Up to two attempts; the second only after a 5xx. Returns the last answer; throws TransportError. */
export async function postWithRetry(url: string, opts: PostOptions): Promise<Answer> {
  const first = await post(url, opts);
  if (first.status < 500) return first;
  return post(url, opts);
}

async function post(url: string, opts: PostOptions): Promise<Answer> {
  // The timeout covers the whole attempt, headers and body alike.
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    // Redirects are not followed: a moved provider is a configuration error, reported with its status.
    const res = await fetch(url, { method: 'POST', headers: opts.headers, body: opts.body, redirect: 'manual', signal });
    if (!opts.readBody) {
      await res.body?.cancel().catch(() => {});
      return { status: res.status, body: '' };
    }
    return { status: res.status, body: await res.text() };
  } catch (err) {
    throw new TransportError(errnoOf(err, signal), { cause: err });
  }
}

/**
 * The errno-like code of a failed fetch: `ETIMEDOUT` when our timeout fired, else the code undici
 * puts on the cause (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`…; with several addresses tried, the
 * first one's), `ECONNRESET` for a socket closed mid-answer, `EUNKNOWN` when nothing says.
 */
export function errnoOf(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted || (err instanceof Error && err.name === 'TimeoutError')) return 'ETIMEDOUT';
  type Coded = { code?: unknown; errors?: { code?: unknown }[] };
  const cause = err instanceof Error ? (err.cause as Coded | undefined) : undefined;
  const code = [cause?.code, ...(cause?.errors ?? []).map((e) => e?.code), (err as Coded | undefined)?.code].find((c) => typeof c === 'string');
  if (typeof code !== 'string') return 'EUNKNOWN';
  if (code.startsWith('UND_ERR_SOCKET') || code === 'UND_ERR_CLOSED') return 'ECONNRESET';
  return code;
}
