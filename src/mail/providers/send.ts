import { errnoOf } from '../../sms/http.ts';
import type { MailTransport } from '../transport.ts';
import { type ApiProviderName, PROVIDERS } from './catalog.ts';
import { postmarkTransport } from './postmark.ts';
import { type FetchProviderName, type OpenCredentials, REQUESTS } from './requests.ts';

/**
 * A send the provider refused. `permanent`: a 4xx other than 408 and 429 (wrong key, a request
 * the provider will never accept): sending it again cannot succeed, so the worker gives it up at
 * once with an `fn` log instead of retrying it into a storm of 401s. 408, 429, 5xx, timeouts and
 * network errors are transient and go through the outbox's retries.
 */
export class EmailApiError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'EmailApiError';
    this.permanent = permanent;
  }
}

export const isPermanentFailure = (err: unknown) => err instanceof EmailApiError && err.permanent;

export const isPermanentStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * The provider's own words for a refusal, at most 160 characters: SendGrid and SparkPost
 * `errors[0].message`, Mailgun `message`, SES `message`; a short plain-text
 * body (Mailgun's 401 "Forbidden") as it is. Never the request: it holds the code.
 */
function reason(body: string): string {
  let said: unknown;
  try {
    const j = JSON.parse(body) as { errors?: { message?: unknown }[]; message?: unknown; Message?: unknown };
    said = j.errors?.[0]?.message ?? j.message ?? j.Message;
  } catch {
    said = body.length <= 160 && !body.includes('<') ? body : undefined;
  }
  return typeof said === 'string' ? said.replace(/\s+/g, ' ').trim().slice(0, 160) : '';
}

/** The origins per provider (SESAME_EMAIL_API_URL_<NAME>) and the per-attempt timeout. */
export interface ApiSettings {
  origins: Readonly<Partial<Record<ApiProviderName, string>>>;
  timeoutMs: number;
}

/** One attempt: resolves on a 2xx, else rejects with an EmailApiError saying what happened. */
async function call(name: FetchProviderName, c: OpenCredentials, mail: Parameters<MailTransport['send']>[0], s: ApiSettings): Promise<void> {
  const label = PROVIDERS[name].label;
  const req = REQUESTS[name](c, mail, s.origins[name], Date.now());
  // One timeout for the whole exchange, body included: a send must end well inside the outbox lease.
  const signal = AbortSignal.timeout(s.timeoutMs);
  let status: number;
  let body: string;
  try {
    // Redirects are not followed: a moved API is a configuration error, reported with its status.
    const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal });
    status = res.status;
    body = await res.text();
  } catch (err) {
    const code = errnoOf(err, signal);
    throw new EmailApiError(code === 'ETIMEDOUT' ? `${label} did not answer within ${s.timeoutMs} ms` : `${label} could not be reached: ${code}`, false);
  }
  if (status >= 200 && status < 300) return;
  const why = reason(body);
  throw new EmailApiError(`${label} answered ${status}${why ? `: ${why}` : ''}`, isPermanentStatus(status));
}

/** The transport of an API provider: one HTTPS call per message, nothing pooled to close. */
export function apiTransport(name: ApiProviderName, credentials: OpenCredentials, settings: ApiSettings): MailTransport {
  if (name === 'postmark') return postmarkTransport(credentials, settings);
  return { mode: 'api', send: (mail) => call(name, credentials, mail, settings), close() {} };
}
