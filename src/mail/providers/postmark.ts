import { ServerClient } from 'postmark';
import { errnoOf } from '../../sms/http.ts';
import type { MailTransport } from '../transport.ts';
import { formatMailbox, parseMailbox } from './address.ts';
import type { OpenCredentials } from './requests.ts';
import { type ApiSettings, EmailApiError, isPermanentStatus } from './send.ts';

/**
 * Postmark through its official client (`postmark`, no dependencies, built on fetch): `POST /email`
 * with `X-Postmark-Server-Token`, on the transactional `outbound` stream. The client's fetch hook
 * keeps redirects unfollowed (as for the other providers) and says why a call failed in the words
 * of send.ts; its errors carry the HTTP status, classified the same way (a 401 or 422 is final).
 */
export function postmarkTransport(c: OpenCredentials, s: ApiSettings): MailTransport {
  const origin = new URL(s.origins.postmark ?? 'https://api.postmarkapp.com');
  const viaFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    try {
      return await fetch(input, { ...init, redirect: 'manual' });
    } catch (err) {
      const code = errnoOf(err, init?.signal ?? undefined);
      throw new Error(code === 'ETIMEDOUT' ? `Postmark did not answer within ${s.timeoutMs} ms` : `Postmark could not be reached: ${code}`);
    }
  };
  const client = new ServerClient(typeof c.server_token === 'string' ? c.server_token : '', {
    useHttps: origin.protocol === 'https:',
    requestHost: origin.host,
    timeout: s.timeoutMs / 1000, // the client counts in seconds
    fetch: viaFetch,
  });
  return {
    mode: 'api',
    async send(m) {
      try {
        await client.sendEmail({ From: formatMailbox(parseMailbox(m.from)), To: m.to, Subject: m.subject, TextBody: m.text, HtmlBody: m.html, MessageStream: 'outbound' });
      } catch (err) {
        const status = (err as { statusCode?: unknown }).statusCode;
        const said = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160);
        // No status: the call itself failed (our fetch hook's words), which a retry may cure.
        if (typeof status !== 'number' || status === 0) throw new EmailApiError(said, false);
        throw new EmailApiError(`Postmark answered ${status}: ${said}`, isPermanentStatus(status));
      }
    },
    close() {},
  };
}
