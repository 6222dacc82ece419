import type { Config } from '../config/schema.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { sendGateway } from './gateway.ts';
import { providerOf } from './options.ts';
import { sendTwilio } from './twilio.ts';
import { type SmsMessage, type SmsReceipt, type SmsRequestInfo, SmsProviderError } from './types.ts';

export interface SmsContext {
  config: Config;
  /** Counts each send's outcome when metrics are on. */
  metrics?: Pick<Metrics, 'sms'> | undefined;
  /** Milliseconds since the epoch: the gateway JWT's `iat`/`exp` follow the injectable clock. */
  now(): number;
}

/**
 * Sends one SMS during /passwordless/start (issue 5 §2) with the connection's provider: `twilio`
 * (also when `provider` is absent, as on Auth0) or `sms_gateway`.
 *
 * `options` must be OPENED options (`openSmsSecrets(keyring, stored)`): this module never sees the
 * keyring, and a secret still sealed is reported as missing. Resolves with a receipt; every failure
 * the caller should show is an SmsProviderError whose `error`/`description` are the 400 body
 * (spec §1.4). Nothing here logs: the body, the code and the credentials stay out of logs.
 */
export async function sendSms(ctx: SmsContext, options: Record<string, unknown>, message: SmsMessage, req: SmsRequestInfo): Promise<SmsReceipt> {
  const provider = providerOf(options);
  try {
    const receipt = await dispatch(ctx, provider, options, message, req);
    ctx.metrics?.sms(provider, 'sent');
    return receipt;
  } catch (err) {
    // The label stays bounded: an unknown provider name (stored by an API client) counts as `other`.
    ctx.metrics?.sms(provider === 'twilio' || provider === 'sms_gateway' ? provider : 'other', 'failed');
    throw err;
  }
}

function dispatch(ctx: SmsContext, provider: string, options: Record<string, unknown>, message: SmsMessage, req: SmsRequestInfo): Promise<SmsReceipt> {
  if (provider === 'twilio') return sendTwilio(ctx.config.twilioApiUrl, ctx.config.twilioTimeoutMs, options, message);
  if (provider === 'sms_gateway') return sendGateway(options, message, req, ctx.now(), ctx.config.smsGatewayTimeoutMs);
  throw new SmsProviderError('sms_provider_error', `Unknown SMS provider: ${provider.slice(0, 64)}`);
}
