import { randomBytes } from 'node:crypto';
import { OAuthError, badRequest } from '../errors/oauth-error.ts';
import type { TemplateEngine } from '../mail/templates.ts';
import type { Services } from '../services.ts';
import { openSmsSecrets } from '../sms/secrets.ts';
import { sendSms } from '../sms/send.ts';
import { SmsTemplateError, renderSms } from '../sms/template.ts';
import { SmsProviderError } from '../sms/types.ts';
import { type GuardName, reserveSmsSend } from './fraud-guards.ts';
import { reserveIdentifierStart } from './identifier-limits.ts';
import { makeLog, passwordlessFields } from './logs.ts';
import type { Connection, LogEvent, TenantSettings } from './model.ts';
import { newCode, otpSettings } from './otp.ts';
import type { StartInput } from './passwordless.ts';
import { maskPhone } from './phone.ts';
import { withTenantPhone } from './phone-provider.ts';

/** What each tripped guard tells the caller (issue 5 §4); the `limit_phone` log names the guard. */
const GUARD_MESSAGES: Record<Exclude<GuardName, 'allowed_countries'>, string> = {
  per_number: 'Too many codes were sent to this phone number. Please try again later.',
  per_prefix: 'Too many codes were sent to phone numbers like this one. Please try again later.',
  per_ip_range: 'Too many codes were requested from this network. Please try again later.',
  per_client: 'This application has requested too many codes. Please try again later.',
  sms_daily_budget: 'The SMS budget of this tenant is spent. Please try again later.',
};

/**
 * The SMS half of the passwordless start (issue 5 §2), once the client rule, the grant and the
 * connection have been checked: the number's user, the toll-fraud guards, then the text is sent
 * during the request (Auth0 reports provider failures synchronously, spec §1.4) and only a sent
 * code is stored, so a failed send never replaces a code the user already has.
 */
export async function startSms(
  s: Services, engine: TemplateEngine, input: StartInput, conn: Connection, tenant: TenantSettings, depnote: LogEvent | null,
  remembered: Record<string, string>, loggedAuthParams: Record<string, unknown>,
): Promise<{ _id: string; phone_number: string }> {
  const { client, ctx } = input;
  const now = s.now();
  const phone = input.phone;
  if (phone === undefined) throw badRequest('bad.phone_number', 'Missing required property: phone_number');
  if (input.send !== undefined && input.send !== 'code') throw badRequest('bad.send', "Only 'code' is supported for SMS");
  const transactionId = randomBytes(12).toString('hex');
  const fields = { ...passwordlessFields(client, conn), user_name: phone.e164 };
  const withDepnote = (log: LogEvent) => (depnote ? [depnote, log] : [log]);

  // As for email (issue 4 §4): a blocked user is sent nothing and gets the usual answer.
  const existing = await s.store.findUserByPhone(conn.name, phone.e164);
  if (existing?.blocked) {
    await s.store.appendLogs(withDepnote(makeLog('f', ctx, {
      ...fields, description: 'user is blocked', user_id: existing.user_id,
      details: { transaction_id: transactionId, send: 'code', error: { message: 'user is blocked: no code was sent' } },
    }, now)));
    return { _id: transactionId, phone_number: phone.e164 };
  }

  // Issue 10 §2: codes per number from any IP, before the toll-fraud guards spend their budgets.
  await reserveIdentifierStart(s, client, conn, phone.e164, ctx, now);
  const guard = await reserveSmsSend(s, { connection: conn, client, tenant, phone: phone.e164, country: phone.country, ip: ctx.ip }, now);
  if (!guard.ok) {
    await s.store.appendLogs(withDepnote(makeLog('limit_phone', ctx, {
      ...fields,
      user_name: maskPhone(phone.e164),
      description: `Phone number ${maskPhone(phone.e164)} was prevented from receiving more SMS messages (${guard.guard})`,
      details: {
        guard: guard.guard,
        delivery_method: 'sms',
        phone_number: maskPhone(phone.e164),
        reset_time: guard.resetAt === null ? null : new Date(guard.resetAt).toISOString(),
        trigger_time: new Date(now).toISOString(),
      },
    }, now)));
    // A region outside allowed_countries never resets on its own: a retry cannot help, so it is a
    // 400 on the number (Lock shows its bad.phone_number text), not a 429 inviting one.
    if (guard.guard === 'allowed_countries') {
      throw badRequest('bad.phone_number', `Phone numbers from ${phone.country ?? 'this region'} are not allowed for this connection`);
    }
    throw new OAuthError(429, 'too_many_requests', GUARD_MESSAGES[guard.guard], { headers: { 'retry-after': String(guard.retryAfterSeconds ?? 60) } });
  }

  const key = { connection_id: conn.id, identifier: phone.e164, client_id: client.client_id };
  const { code, record } = newCode(s, key, otpSettings(conn), remembered);
  try {
    // The tenant's phone provider and otp_verify template fill in what the connection leaves out (issue 14).
    const options = await withTenantPhone(s, openSmsSecrets(s.keyring, conn.options, conn.id));
    const body = await renderSms(engine, options, {
      code, phone_number: phone.e164, application: { name: client.name }, request_language: input.language ?? null, friendly_name: tenant.friendly_name ?? null,
    }, s.issuer).catch((err: unknown) => {
      // Templates are parsed when saved; only Liquid's render limits can still fail here.
      if (err instanceof SmsTemplateError) throw new SmsProviderError('sms_provider_error', `The SMS template of connection ${conn.name} could not be rendered`);
      throw err;
    });
    await sendSms(s, options, { to: phone.e164, body }, { ip: ctx.ip, userAgent: ctx.user_agent });
  } catch (err) {
    await s.store.releaseWindows(guard.ref);
    if (!(err instanceof SmsProviderError)) throw err;
    // LOGCODES `fn` (Failed Sending Notification): the provider's answer with the number masked
    // (Twilio's texts quote it), never the text or the code.
    const logged = err.description.split(phone.e164).join(maskPhone(phone.e164));
    await s.store.appendLogs(withDepnote(makeLog('fn', ctx, {
      ...fields,
      user_name: maskPhone(phone.e164),
      description: logged,
      details: { notification_type: 'sms', email_type: 'passwordless', to: maskPhone(phone.e164), error: logged, transaction_id: transactionId },
    }, now)));
    throw badRequest(err.error, err.description);
  }

  const sent = makeLog('cs', ctx, {
    ...fields,
    details: {
      body: {
        client_id: client.client_id, connection: conn.name, phone_number: phone.e164, send: 'code', authParams: loggedAuthParams,
        request_language: input.language ?? null, ip: ctx.ip, 'user-agent': ctx.user_agent ?? null, username: phone.e164,
      },
      transaction_id: transactionId,
      authenticated_with: input.auth ?? 'none',
    },
  }, now);
  await s.store.issueCode(record, null, withDepnote(sent));
  return { _id: transactionId, phone_number: phone.e164 };
}
