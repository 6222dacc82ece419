import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { sendSms } from '../../src/sms/send.ts';
import { type SmsMessage, SmsProviderError } from '../../src/sms/types.ts';
import { type SmsGateway, type TwilioServer, closedPort, codeFromSms, startSmsGateway, startTwilioServer } from '../helpers/sms-servers.ts';

/**
 * The sending side of SMS passwordless (issue 5 §1–§2) over real HTTP: sendSms against a local
 * Twilio-shaped server and a local gateway that verifies the bearer JWT. Each test has its own
 * server, so the suite runs concurrently; the timeouts are configured short.
 */

const message: SmsMessage = { to: '+14155550123', body: 'Your verification code is: 123456\n\n@auth.example.com #123456' };
const reqInfo = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)' };
const ctxFor = (twilioApiUrl = 'https://api.twilio.com', env: Record<string, string> = {}) => ({
  config: loadConfig({ SESAME_TWILIO_API_URL: twilioApiUrl, ...env }),
  now: () => Date.now(),
});
/**
 * The hanging-provider tests configure short timeouts instead of waiting 10 s and 30 s (those
 * defaults are checked in test/unit/config.test.ts); the others keep the defaults, so a slow CI
 * machine never turns a normal send into a timeout.
 */
const TIMEOUT_MS = 3_000;
const SHORT = { SESAME_TWILIO_TIMEOUT_MS: String(TIMEOUT_MS), SESAME_SMS_GATEWAY_TIMEOUT_MS: String(TIMEOUT_MS + 500) };

/** Resolves to the SmsProviderError a send rejects with (fails the test if it resolves). */
async function refusal(p: Promise<unknown>): Promise<SmsProviderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SmsProviderError, `expected SmsProviderError, got ${String(err)}`);
    return err;
  }
  assert.fail('the send should have failed');
}

async function withTwilio(fn: (t: TwilioServer) => Promise<void>) {
  const t = await startTwilioServer();
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function withGateway(opts: Parameters<typeof startSmsGateway>[0], fn: (g: SmsGateway) => Promise<void>) {
  const g = await startSmsGateway(opts);
  try {
    await fn(g);
  } finally {
    await g.close();
  }
}

const twilioOptions = (t: TwilioServer, extra: Record<string, unknown> = {}) => ({
  twilio_sid: t.accountSid, twilio_token: t.authToken, from: '+15005550006', messaging_service_sid: null, ...extra,
});

const gatewayAuth = { method: 'bearer', subject: 'urn:Auth0', audience: 'urn:MySmsGateway', secret: 'a-shared-secret-of-reasonable-length', secret_base64_encoded: false };

describe('SMS providers', { concurrency: true }, () => {
  it('Twilio: posts the Messages API shape with Basic auth, From and the body', () => withTwilio(async (t) => {
    const receipt = await sendSms(ctxFor(t.url), twilioOptions(t), message, reqInfo);
    assert.equal(t.attempts, 1);
    assert.equal(t.messages.length, 1);
    const m = t.messages[0]!;
    assert.deepEqual(
      { accountSid: m.accountSid, to: m.to, from: m.from, messagingServiceSid: m.messagingServiceSid, body: m.body, auth: m.auth },
      { accountSid: t.accountSid, to: '+14155550123', from: '+15005550006', messagingServiceSid: undefined, body: message.body, auth: { username: t.accountSid, password: t.authToken } },
    );
    assert.deepEqual(receipt, { provider: 'twilio', id: m.sid });
    assert.match(m.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(codeFromSms(m.body), '123456');
  }));

  it('Twilio: provider absent means twilio; messaging_service_sid wins and From is omitted', () => withTwilio(async (t) => {
    const service = 'MG0123456789abcdef0123456789abcdef';
    await sendSms(ctxFor(t.url), twilioOptions(t, { messaging_service_sid: service }), message, reqInfo);
    const m = t.messages[0]!;
    assert.equal(m.messagingServiceSid, service);
    assert.equal(m.from, undefined);
    assert.equal('from' in m, false);
  }));

  it('Twilio: 21211 answers bad.phone_number with the code; 20003 answers sms_provider_error', () => withTwilio(async (t) => {
    t.fail({ status: 400, code: 21211 });
    const bad = await refusal(sendSms(ctxFor(t.url), twilioOptions(t), message, reqInfo));
    assert.deepEqual([bad.error, bad.description], ['bad.phone_number', "The 'To' number +14155550123 is not a valid phone number. (Code: 21211)"]);

    // A real wrong token: the server's own Basic-auth check answers 20003.
    const auth = await refusal(sendSms(ctxFor(t.url), twilioOptions(t, { twilio_token: 'wrong' }), message, reqInfo));
    assert.deepEqual([auth.error, auth.description], ['sms_provider_error', 'Authenticate (Code: 20003)']);
    assert.equal(t.attempts, 2, '4xx answers are not retried');
    assert.equal(t.messages.length, 0);
  }));

  it('Twilio: a 500 is retried once, then the message goes out', () => withTwilio(async (t) => {
    t.fail(500);
    const receipt = await sendSms(ctxFor(t.url), twilioOptions(t), message, reqInfo);
    assert.equal(t.attempts, 2);
    assert.equal(t.messages.length, 1);
    assert.equal(receipt.id, t.messages[0]!.sid);
  }));

  it('Twilio: two 5xx give up after exactly two requests', () => withTwilio(async (t) => {
    t.fail(500);
    t.fail(503);
    t.fail(500); // would be a third attempt: must stay unused
    const err = await refusal(sendSms(ctxFor(t.url), twilioOptions(t), message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Internal Server Error (Code: 20500)']);
    assert.equal(t.attempts, 2);
    assert.equal(t.messages.length, 0);
  }));

  it('Twilio: a 400 is not retried', () => withTwilio(async (t) => {
    t.fail({ status: 400, code: 21610 });
    const err = await refusal(sendSms(ctxFor(t.url), twilioOptions(t), message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Attempt to send to unsubscribed recipient (Code: 21610)']);
    assert.equal(t.attempts, 1);
  }));

  it('Twilio: a failure without a Twilio code reports the status; a closed port reports the errno', async () => {
    // The gateway double plays a wrong Twilio origin: 404 with a JSON body that has no Twilio code.
    await withGateway({}, async (g) => {
      const err = await refusal(sendSms(ctxFor(new URL(g.url).origin), { twilio_sid: 'AC1', twilio_token: 't', from: '+15005550006' }, message, reqInfo));
      assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Unexpected response from Twilio: HTTP 404']);
    });
    const port = await closedPort();
    const err = await refusal(sendSms(ctxFor(`http://127.0.0.1:${port}`), { twilio_sid: 'AC1', twilio_token: 't', from: '+15005550006' }, message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Error while calling Twilio: ECONNREFUSED']);
  });

  it('Twilio: a hanging API times out after SESAME_TWILIO_TIMEOUT_MS, without a retry', () => withTwilio(async (t) => {
    t.fail('hang', 2);
    const started = Date.now();
    const err = await refusal(sendSms(ctxFor(t.url, SHORT), twilioOptions(t), message, reqInfo));
    const elapsed = Date.now() - started;
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Timeout while calling Twilio: ETIMEDOUT']);
    assert.ok(elapsed >= TIMEOUT_MS - 50 && elapsed < TIMEOUT_MS + 2_500, `elapsed ${elapsed} ms`);
    assert.equal(t.attempts, 1);
  }));

  it('gateway: JSON body and a bearer JWT the receiver verifies (sub, aud, iat, exp)', () => withGateway(
    { secret: gatewayAuth.secret, audience: gatewayAuth.audience, subject: gatewayAuth.subject },
    async (g) => {
      const before = Math.floor(Date.now() / 1000);
      const receipt = await sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url, from: 'Sesame', gateway_authentication: gatewayAuth }, message, reqInfo);
      assert.deepEqual(receipt, { provider: 'sms_gateway' });
      assert.equal(g.messages.length, 1);
      const m = g.messages[0]!;
      assert.deepEqual({ recipient: m.recipient, body: m.body, sender: m.sender, req: m.req }, { recipient: '+14155550123', body: message.body, sender: 'Sesame', req: undefined });
      const claims = m.claims!;
      assert.equal(claims.sub, 'urn:Auth0');
      assert.equal(claims.aud, 'urn:MySmsGateway');
      assert.ok(claims.iat! >= before && claims.iat! <= before + 2);
      assert.equal(claims.exp! - claims.iat!, 60);
    },
  ));

  it('gateway: a wrong secret is refused by the receiver: Authentication failed … 401', () => withGateway(
    { secret: 'the-receiver-expects-this-secret', audience: gatewayAuth.audience, subject: gatewayAuth.subject },
    async (g) => {
      const err = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: gatewayAuth }, message, reqInfo));
      assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Authentication failed while calling the SMS gateway: 401']);
      assert.equal(g.attempts, 1);
      // And a wrong audience is refused too: the receiver checks the claims, not only the signature.
      const wrongAud = { ...gatewayAuth, secret: 'the-receiver-expects-this-secret', audience: 'urn:SomeoneElse' };
      const err2 = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: wrongAud }, message, reqInfo));
      assert.equal(err2.description, 'Authentication failed while calling the SMS gateway: 401');
      assert.equal(g.messages.length, 0);
    },
  ));

  it('gateway: a base64 secret signs with its decoded bytes', async () => {
    const raw = Buffer.from('binary\x00secret\xffbytes-0123456789', 'latin1');
    await withGateway({ secret: raw.toString('base64'), secretBase64: true, audience: 'urn:gw', subject: 'urn:Auth0' }, async (g) => {
      const auth = { method: 'bearer', subject: 'urn:Auth0', audience: 'urn:gw', secret: raw.toString('base64'), secret_base64_encoded: true };
      await sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: auth }, message, reqInfo);
      assert.equal(g.messages.length, 1);
      // The same string used as a text key is a different key: refused.
      const err = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: { ...auth, secret_base64_encoded: false } }, message, reqInfo));
      assert.equal(err.description, 'Authentication failed while calling the SMS gateway: 401');
    });
  });

  it('gateway: forward_req_info true and "true" add req {ip, user-agent}; false and absent do not', () => withGateway({}, async (g) => {
    const base = { provider: 'sms_gateway', gateway_url: g.url };
    for (const fwd of [true, 'true', false, 'false', undefined]) {
      await sendSms(ctxFor(), { ...base, ...(fwd === undefined ? {} : { forward_req_info: fwd }) }, message, reqInfo);
    }
    await sendSms(ctxFor(), { ...base, forward_req_info: true }, message, { ip: '2001:db8::1', userAgent: undefined });
    assert.deepEqual(g.messages.map((m) => m.req), [
      { ip: '203.0.113.7', 'user-agent': 'Mozilla/5.0 (test)' },
      { ip: '203.0.113.7', 'user-agent': 'Mozilla/5.0 (test)' },
      undefined, undefined, undefined,
      { ip: '2001:db8::1', 'user-agent': null },
    ]);
    assert.ok(g.messages.every((m) => !('sender' in m) && m.claims === undefined));
  }));

  it('gateway: any 2xx is success', () => withGateway({ successStatus: 202 }, async (g) => {
    assert.deepEqual(await sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url }, message, reqInfo), { provider: 'sms_gateway' });
  }));

  it('gateway: a 503 is retried once; two 5xx give up with the status', () => withGateway({}, async (g) => {
    g.fail(503);
    await sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url }, message, reqInfo);
    assert.equal(g.attempts, 2);
    assert.equal(g.messages.length, 1);

    g.fail(503, 3);
    const err = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url }, message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Unexpected response while calling the SMS gateway: 503']);
    assert.equal(g.attempts, 4);
  }));

  it('gateway: a 404 is not retried: Unexpected response … 404', () => withGateway({}, async (g) => {
    g.fail(404);
    const err = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: g.url }, message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Unexpected response while calling the SMS gateway: 404']);
    assert.equal(g.attempts, 1);
  }));

  it('gateway: a closed port reports ECONNREFUSED', async () => {
    const port = await closedPort();
    const err = await refusal(sendSms(ctxFor(), { provider: 'sms_gateway', gateway_url: `http://127.0.0.1:${port}/sms` }, message, reqInfo));
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Unexpected response while calling the SMS gateway: ECONNREFUSED']);
  });

  it('gateway: a hanging gateway times out after SESAME_SMS_GATEWAY_TIMEOUT_MS, without a retry', () => withGateway({}, async (g) => {
    g.fail('hang', 2);
    const started = Date.now();
    const err = await refusal(sendSms(ctxFor(undefined, SHORT), { provider: 'sms_gateway', gateway_url: g.url }, message, reqInfo));
    const elapsed = Date.now() - started;
    assert.deepEqual([err.error, err.description], ['sms_provider_error', 'Timeout while calling the SMS gateway: ETIMEDOUT']);
    assert.ok(elapsed >= TIMEOUT_MS + 450 && elapsed < TIMEOUT_MS + 3_000, `elapsed ${elapsed} ms`);
    assert.equal(g.attempts, 1);
  }));

  it('unknown provider and missing credentials are sms_provider_error, sent nowhere', async () => {
    const e1 = await refusal(sendSms(ctxFor(), { provider: 'carrier-pigeon' }, message, reqInfo));
    assert.deepEqual([e1.error, e1.description], ['sms_provider_error', 'Unknown SMS provider: carrier-pigeon']);
    const e2 = await refusal(sendSms(ctxFor(), { twilio_sid: 'AC1', twilio_token_enc: 'v1.x.y.z', from: '+15005550006' }, message, reqInfo));
    assert.deepEqual([e2.error, e2.description], ['sms_provider_error', 'Twilio is not configured: twilio_sid and twilio_token are required']);
  });

  it('the JWT follows the injected clock', () => withGateway({ secret: gatewayAuth.secret, audience: gatewayAuth.audience, subject: gatewayAuth.subject }, async (g) => {
    // A clock in the future still verifies (exp is later still); a clock an hour behind does not.
    const future = Date.UTC(2030, 0, 1);
    await sendSms({ config: ctxFor().config, now: () => future }, { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: gatewayAuth }, message, reqInfo);
    assert.deepEqual([g.messages[0]!.claims!.iat, g.messages[0]!.claims!.exp], [future / 1000, future / 1000 + 60]);
    const err = await refusal(sendSms({ config: ctxFor().config, now: () => Date.now() - 3_600_000 }, { provider: 'sms_gateway', gateway_url: g.url, gateway_authentication: gatewayAuth }, message, reqInfo));
    assert.equal(err.description, 'Authentication failed while calling the SMS gateway: 401');
  }));
});
