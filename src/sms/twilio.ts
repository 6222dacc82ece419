import { type SmsMessage, type SmsReceipt, SmsProviderError } from './types.ts';
import { TransportError, postWithRetry } from './http.ts';

/** Twilio's "The 'To' number … is not a valid phone number." Lock shows it as bad.phone_number (spec §1.4). */
const INVALID_TO = 21211;

/** The Twilio fields of an sms connection's options (spec §4), secrets opened. */
export interface TwilioOptions {
  twilio_sid?: unknown;
  twilio_token?: unknown;
  from?: unknown;
  messaging_service_sid?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Sends one SMS with Twilio's Messages API: POST `{apiUrl}/2010-04-01/Accounts/{sid}/Messages.json`,
 * form-encoded, Basic auth `sid:token`. `MessagingServiceSid` wins over `From` and `From` is then
 * omitted (issue 5 §1), since Twilio picks the sender from the service. Failures become
 * SmsProviderError with Auth0's `<message> (Code: <code>)` description (spec §1.4). `timeoutMs` is per
 * attempt (SESAME_TWILIO_TIMEOUT_MS, 10 s by default).
 */
export async function sendTwilio(apiUrl: string, timeoutMs: number, options: TwilioOptions, message: SmsMessage): Promise<SmsReceipt> {
  const sid = str(options.twilio_sid);
  const token = str(options.twilio_token);
  const service = str(options.messaging_service_sid);
  const from = str(options.from);
  if (!sid || !token) throw new SmsProviderError('sms_provider_error', 'Twilio is not configured: twilio_sid and twilio_token are required');
  if (!service && !from) throw new SmsProviderError('sms_provider_error', 'Twilio is not configured: from or messaging_service_sid is required');

  const form = new URLSearchParams({ To: message.to, Body: message.body });
  if (service) form.set('MessagingServiceSid', service);
  else form.set('From', from!);

  let answer;
  try {
    answer = await postWithRetry(`${apiUrl}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs,
      readBody: true,
    });
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    if (err.code === 'ETIMEDOUT') throw new SmsProviderError('sms_provider_error', 'Timeout while calling Twilio: ETIMEDOUT');
    throw new SmsProviderError('sms_provider_error', `Error while calling Twilio: ${err.code}`);
  }

  const json = parseJson(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    const id = typeof json?.sid === 'string' ? json.sid : undefined;
    return { provider: 'twilio', ...(id ? { id } : {}) };
  }
  // Twilio's error body: {code, message, more_info, status}.
  const code = typeof json?.code === 'number' || typeof json?.code === 'string' ? String(json.code) : undefined;
  const text = typeof json?.message === 'string' ? json.message : undefined;
  if (code === undefined || text === undefined) {
    throw new SmsProviderError('sms_provider_error', `Unexpected response from Twilio: HTTP ${answer.status}`);
  }
  throw new SmsProviderError(code === String(INVALID_TO) ? 'bad.phone_number' : 'sms_provider_error', `${text} (Code: ${code})`);
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
