/**
 * The SMS channel's contract (issue 5). Unlike email, an SMS is sent during the /passwordless/start
 * request: Auth0 reports provider failures synchronously (spec §1.4 `sms_provider_error`).
 */

/** One message to one E.164 number; `body` is the rendered template (it holds the code: never logged). */
export interface SmsMessage {
  to: string;
  body: string;
}

/** The end user's request, forwarded to a gateway when `forward_req_info` is on (PL-GW). */
export interface SmsRequestInfo {
  ip: string;
  userAgent: string | undefined;
}

/**
 * A send the provider refused or that could not complete. `error` and `description` are the wire
 * body of the 400 answer (spec §1.4): `sms_provider_error`, or `bad.phone_number` for Twilio's
 * 21211 (the description keeps `(Code: 21211)`, which Lock also maps to bad.phone_number).
 */
export class SmsProviderError extends Error {
  readonly error: 'sms_provider_error' | 'bad.phone_number';
  readonly description: string;
  constructor(error: 'sms_provider_error' | 'bad.phone_number', description: string) {
    super(description);
    this.error = error;
    this.description = description;
    this.name = 'SmsProviderError';
  }
}

/** What a successful send reports back: the provider's message id when it gives one (never the body). */
export interface SmsReceipt {
  provider: 'twilio' | 'sms_gateway';
  id?: string;
}
