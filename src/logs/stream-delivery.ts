import { createHmac } from 'node:crypto';
import type { LogEvent } from '../core/model.ts';
import type { LogStreamDoc } from '../store/types.ts';

/** The AAD of a stream's sealed signing secret (issue 10 §3). */
export const streamContext = (id: string) => `stream:${id}`;

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`. */
export const SIGNATURE_HEADER = 'X-Sesame-Signature';

export function sign(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * The request body in the stream's `httpContentFormat` (Auth0's custom webhook formats): each item is
 * `{log_id, data}`. JSONARRAY: one array; JSONLINES: one item per line; JSONOBJECT: one item alone
 * (the worker sends JSONOBJECT streams one log per request).
 */
export function formatBody(format: LogStreamDoc['sink']['httpContentFormat'], logs: LogEvent[]): string {
  const items = logs.map((l) => JSON.stringify({ log_id: l.log_id, data: l }));
  if (format === 'JSONLINES') return items.join('\n');
  if (format === 'JSONOBJECT') {
    if (items.length !== 1) throw new Error('JSONOBJECT carries exactly one log per request');
    return items[0]!;
  }
  return `[${items.join(',')}]`;
}

/**
 * POSTs one batch; resolves when the receiver answered 2xx, throws otherwise (the worker retries the
 * same batch). Redirects are not followed: a receiver that moved must be reconfigured. Without a
 * secret (a stream created with Auth0's body) the request is unsigned, as Auth0 sends it.
 */
export async function deliver(sink: LogStreamDoc['sink'], secret: string | undefined, logs: LogEvent[], signal: AbortSignal): Promise<void> {
  const body = formatBody(sink.httpContentFormat, logs);
  const headers: Record<string, string> = {};
  for (const h of sink.httpCustomHeaders ?? []) headers[h.header] = h.value;
  headers['content-type'] = sink.httpContentType;
  if (secret !== undefined) headers[SIGNATURE_HEADER] = sign(secret, body, Math.floor(Date.now() / 1000));
  if (sink.httpAuthorization) headers.authorization = sink.httpAuthorization;
  const res = await fetch(sink.httpEndpoint, { method: 'POST', headers, body, redirect: 'manual', signal });
  await res.body?.cancel().catch(() => {});
  if (res.status < 200 || res.status > 299) throw new Error(`receiver answered HTTP ${res.status}`);
}
