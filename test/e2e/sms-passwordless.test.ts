import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { CookieJar, hiddenFields } from '../helpers/cookie-jar.ts';
import { createClient } from '../helpers/fixtures.ts';
import { mgmt } from '../helpers/management.ts';
import { codeFromSms } from '../helpers/sms-servers.ts';
import { GATEWAY_AUTH, uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';

type Json = Record<string, any>;
const ROOMY = { per_prefix: { max: 1000 }, per_ip_range: { max: 1000 } };
const DEPRECATION =
  'Enforce client authentication for passwordless connections: This feature is being deprecated. Please see details.feature of this log for more information.';

/**
 * Issue 5 §1–§3: SMS sign-in through POST /passwordless/start and the sms realm of /oauth/token,
 * with Twilio (a local double checking Twilio's REST shape) and a custom gateway (verifying the
 * bearer JWT), on SQLite and PostgreSQL.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SMS passwordless [${backend}]`, { skip }, () => {
    // A short Twilio timeout keeps the hanging-provider test quick (the 10 s default: config.test.ts).
    const t = useSmsTenant(backend, { SESAME_TWILIO_TIMEOUT_MS: '3000' });
    const app = () => t.server.defaultApp;
    const start = (body: Json, headers: Record<string, string> = {}) => t.server.post('/passwordless/start', { ...app(), connection: 'sms', ...body }, headers);
    const exchange = (username: string, otp: string, extra: Json = {}) =>
      t.server.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...app(), realm: 'sms', username, otp, ...extra });
    let smsConn: { id: string };

    it('creates sms connections and shows the guards in force, defaults included; secrets are sealed at rest', async () => {
      smsConn = await t.connection('sms', t.twilioOptions({ fraud_guards: ROOMY }));
      const got = await mgmt(t.server, 'GET', `/connections/${smsConn.id}`);
      assert.equal(got.strategy, 'sms');
      assert.equal('twilio_token' in got.options, false, 'write-only (issue 11)');
      assert.deepEqual(got.options.fraud_guards, {
        allowed_countries: null,
        per_number: { max: 5, window_seconds: 3600 },
        per_prefix: { max: 1000, window_seconds: 3600, prefix_length: 8 },
        per_ip_range: { max: 1000, window_seconds: 3600 },
        per_client: { max: 1000, window_seconds: 86400 },
      });
      const stored = await t.server.services.store.getConnection(smsConn.id);
      assert.ok(!JSON.stringify(stored).includes(t.twilio.authToken), 'the Twilio token is stored sealed');
      const tenant = await mgmt(t.server, 'GET', '/tenants/settings');
      assert.equal(tenant.sms_daily_budget, 10000);
      await t.connection('sms-gw', t.gatewayOptions({
        forward_req_info: 'true', syntax: 'liquid',
        template: '{{ application.name }}: {{ code }} for {{ phone_number }} ({{ request_language }})',
        fraud_guards: { ...ROOMY, per_number: { max: 2 } },
      }));
      await t.connection('sms-macro', t.twilioOptions({ from: null, messaging_service_sid: 'MG0123456789abcdef0123456789abcdef', template: 'Sign-in code @@password@@', fraud_guards: ROOMY }));
    });

    it('sends a code by Twilio and signs the user in with it: E.164 everywhere, phone claims in the ID token', async () => {
      const e164 = uniquePhone();
      const typed = `${e164.slice(0, 2)} (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
      const sent = t.twilio.messages.length;
      const res = await start({ phone_number: typed });
      const body = (await res.json()) as Json;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(Object.keys(body).sort(), ['_id', 'phone_number', 'phone_verified', 'request_language']);
      assert.deepEqual({ ...body, _id: typeof body._id }, { _id: 'string', phone_number: e164, request_language: null, phone_verified: false });

      assert.equal(t.twilio.messages.length, sent + 1);
      const msg = t.twilio.messages.at(-1)!;
      assert.equal(msg.to, e164);
      assert.equal(msg.from, '+15005550006');
      const code = codeFromSms(msg.body);
      // WebOTP / iOS autofill: the last line binds the code to the issuer's host.
      assert.equal(msg.body.split('\n').at(-1), `@${new URL(t.server.issuer).hostname} #${code}`);

      const wrong = await exchange(e164, code === '000000' ? '111111' : '000000');
      assert.equal(wrong.status, 403);
      assert.deepEqual(await wrong.json(), { error: 'invalid_grant', error_description: 'Wrong phone number or verification code.' });

      const ok = await exchange(typed, code, { scope: 'openid phone' });
      const tokens = (await ok.json()) as Json;
      assert.equal(ok.status, 200, JSON.stringify(tokens));
      const claims = decodeJwt(tokens.id_token);
      assert.equal(claims.phone_number, e164);
      assert.equal(claims.phone_verified, true);
      assert.match(String(claims.sub), /^sms\|[0-9a-f]{24}$/);
      const user = await t.server.services.store.findUserByPhone('sms', e164);
      assert.equal(user?.user_id, claims.sub);
      assert.equal(user?.phone_verified, true);

      const [cs] = await t.logs('cs', (l) => l.user_name === e164);
      assert.equal(cs?.details.body.phone_number, e164);
      assert.equal(cs?.details.body.send, 'code');
      const everyLog = JSON.stringify((await t.server.services.store.searchLogs({ query: null, page: 0, perPage: 100, sort: { field: 'date', dir: 'desc' } })).items);
      assert.ok(!everyLog.includes(`#${code}`) && !everyLog.includes(msg.body), 'no log holds the code or the text');
      // A used code is gone (spec §3.2).
      assert.equal((await exchange(e164, code)).status, 403);
    });

    it('refuses malformed numbers and other sends with Auth0’s codes and texts, sending nothing', async () => {
      const before = t.twilio.attempts;
      const cases: [Json, string, string][] = [
        [{}, 'bad.phone_number', 'Missing required property: phone_number'],
        [{ phone_number: 14155552671 }, 'bad.phone_number', 'error in phone_number - invalid type: number (expected string)'],
        [{ phone_number: '4155552671' }, 'bad.phone_number', 'String does not match pattern: ^\\+[0-9]{1,15}$'],
        [{ phone_number: '+1 415 555 26 71 00 00 00' }, 'bad.phone_number', 'String does not match pattern: ^\\+[0-9]{1,15}$'],
        [{ phone_number: '+1415' }, 'bad.phone_number', 'Invalid phone number'],
        [{ phone_number: uniquePhone(), send: 'link' }, 'bad.send', "Only 'code' is supported for SMS"],
      ];
      for (const [body, error, description] of cases) {
        const res = await start(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(await res.json(), { error, error_description: description });
      }
      assert.equal(t.twilio.attempts, before);
    });

    it('renders Liquid for a gateway, signs the gateway JWT and forwards the request info', async () => {
      const e164 = '+33612345678';
      const res = await start({ connection: 'sms-gw', phone_number: '+33 6 12 34 56 78' }, { 'x-request-language': 'fr', 'user-agent': 'sms-test/1.0' });
      const body = (await res.json()) as Json;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.request_language, 'fr');
      const msg = t.gateway.messages.at(-1)!;
      assert.equal(msg.recipient, e164);
      assert.equal(msg.sender, 'Sesame');
      assert.match(msg.body, /^Default App: [0-9]{6} for \+33612345678 \(fr\)$/);
      assert.equal(msg.claims?.sub, GATEWAY_AUTH.subject);
      assert.equal(msg.claims?.aud, GATEWAY_AUTH.audience);
      assert.equal(msg.req?.ip, '127.0.0.1');
      assert.equal(msg.req?.['user-agent'], 'sms-test/1.0');
      const ok = await exchange(e164, codeFromSms(msg.body), { realm: 'sms-gw' });
      assert.equal(ok.status, 200, await ok.clone().text());
    });

    it('uses a messaging service instead of From, and the @@password@@ macro', async () => {
      const e164 = uniquePhone();
      assert.equal((await start({ connection: 'sms-macro', phone_number: e164 })).status, 200);
      const msg = t.twilio.messages.at(-1)!;
      assert.equal(msg.messagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
      assert.equal(msg.from, undefined);
      assert.match(msg.body, /^Sign-in code [0-9]{6}$/);
    });

    it('answers provider failures synchronously; a failed send is not counted and keeps the earlier code', async () => {
      // Twilio's 21211 is about the number: bad.phone_number, with Twilio's text and code.
      const bad = uniquePhone();
      t.twilio.fail({ status: 400, code: 21211 });
      const refused = await start({ phone_number: bad });
      assert.equal(refused.status, 400);
      assert.deepEqual(await refused.json(), { error: 'bad.phone_number', error_description: `The 'To' number ${bad} is not a valid phone number. (Code: 21211)` });
      const [badLog] = await t.logs('fn', (l) => l.connection === 'sms' && l.details.to === `+${'*'.repeat(bad.length - 5)}${bad.slice(-4)}`);
      assert.ok(badLog, 'an fn log for the refused send');
      assert.ok(!JSON.stringify(badLog).includes(bad), 'Twilio quotes the number; the log masks it');

      // Gateway: a code is sent, then two sends fail with 503 (one retry each), and the first code still works.
      const e164 = uniquePhone();
      assert.equal((await start({ connection: 'sms-gw', phone_number: e164 })).status, 200);
      const first = codeFromSms(t.gateway.messages.at(-1)!.body);
      const attempts = t.gateway.attempts;
      t.gateway.fail(503, 2);
      const failed = await start({ connection: 'sms-gw', phone_number: e164 });
      assert.equal(failed.status, 400);
      assert.deepEqual(await failed.json(), { error: 'sms_provider_error', error_description: 'Unexpected response while calling the SMS gateway: 503' });
      assert.equal(t.gateway.attempts, attempts + 2, 'one retry on a 5xx');
      const [fn] = await t.logs('fn', (l) => l.connection === 'sms-gw');
      assert.equal(fn?.details.to, `+${'*'.repeat(e164.length - 5)}${e164.slice(-4)}`);
      // per_number is 2 on sms-gw: the failed send did not use up the second slot.
      assert.equal((await start({ connection: 'sms-gw', phone_number: e164 })).status, 200);
      const second = codeFromSms(t.gateway.messages.at(-1)!.body);
      assert.equal((await start({ connection: 'sms-gw', phone_number: e164 })).status, 429);
      assert.equal((await exchange(e164, first, { realm: 'sms-gw' })).status, 403, 'the newer code replaced the first');
      assert.equal((await exchange(e164, second, { realm: 'sms-gw' })).status, 200);
    });

    it('gives up on a Twilio call that hangs after SESAME_TWILIO_TIMEOUT_MS, within the request', async () => {
      t.twilio.fail('hang');
      const began = Date.now();
      const res = await start({ phone_number: uniquePhone() });
      const elapsed = Date.now() - began;
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'sms_provider_error', error_description: 'Timeout while calling Twilio: ETIMEDOUT' });
      assert.ok(elapsed >= 2_950 && elapsed < 6_000, `answered after ${elapsed} ms`);
    });

    it('applies the confidential-client rule to SMS exactly as to email', async () => {
      const { client: spa } = await createClient(t.server, { app_type: 'spa', token_endpoint_auth_method: 'none' }, { enableOn: 'sms' });
      const noSecret = { client_id: app().client_id, connection: 'sms' };
      const e164 = uniquePhone();
      const lenient = await t.server.post('/passwordless/start', { ...noSecret, phone_number: e164 });
      assert.equal(lenient.status, 200);
      const [dep] = await t.logs('depnote', (l) => l.client_id === app().client_id && l.connection === 'sms');
      assert.equal(dep?.description, DEPRECATION);
      assert.equal(dep?.details.feature.id, 'enforce_client_authentication_on_passwordless_start');

      await mgmt(t.server, 'PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: true } });
      try {
        const sent = t.twilio.attempts;
        const strict = await t.server.post('/passwordless/start', { ...noSecret, phone_number: uniquePhone() });
        assert.equal(strict.status, 403);
        assert.deepEqual(await strict.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
        assert.equal(t.twilio.attempts, sent);
        const pub = await t.server.post('/passwordless/start', { client_id: spa.client_id, connection: 'sms', phone_number: uniquePhone() });
        assert.equal(pub.status, 200, await pub.clone().text());
        assert.equal((await start({ phone_number: uniquePhone() })).status, 200, 'with its secret the confidential app passes');
        assert.equal((await t.logs('depnote', (l) => l.client_id === spa.client_id)).length, 0);
      } finally {
        await mgmt(t.server, 'PATCH', '/tenants/settings', { flags: { enforce_client_authentication_on_passwordless_start: false } });
      }
    });

    it('sends a blocked user nothing and answers as usual', async () => {
      const e164 = uniquePhone();
      assert.equal((await start({ phone_number: e164 })).status, 200);
      const code = codeFromSms(t.twilio.messages.at(-1)!.body);
      assert.equal((await exchange(e164, code)).status, 200);
      const user = await t.server.services.store.findUserByPhone('sms', e164);
      await mgmt(t.server, 'PATCH', `/users/${encodeURIComponent(user!.user_id)}`, { blocked: true });
      const sent = t.twilio.messages.length;
      const res = await start({ phone_number: e164 });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Json).phone_number, e164);
      assert.equal(t.twilio.messages.length, sent);
      assert.ok((await t.logs('f', (l) => l.user_id === user!.user_id && l.description === 'user is blocked')).length >= 1);
    });

    it('checks an SMS code at /passwordless/verify and signs in cross-origin at /co/authenticate (auth0-js)', async () => {
      const origin = 'https://sms-app.example.com';
      const { client: spa } = await createClient(t.server, {
        app_type: 'spa', token_endpoint_auth_method: 'none', cross_origin_authentication: true, web_origins: [origin], callbacks: [`${origin}/cb`],
      }, { enableOn: 'sms' });
      const e164 = uniquePhone();
      const send = await t.server.post('/passwordless/start', { client_id: spa.client_id, connection: 'sms', phone_number: e164 });
      assert.equal(send.status, 200);
      const code = codeFromSms(t.twilio.messages.at(-1)!.body);
      const verify = (verification_code: string) =>
        t.server.post('/passwordless/verify', { client_id: spa.client_id, connection: 'sms', phone_number: e164, verification_code });
      const wrong = await verify(code === '000000' ? '111111' : '000000');
      assert.equal(wrong.status, 401);
      assert.deepEqual(await wrong.json(), { error: 'invalid_user_password', error_description: 'Wrong phone number or verification code.' });
      assert.equal((await verify(code)).status, 200, 'checked, not consumed');

      const co = await t.server.post('/co/authenticate', {
        client_id: spa.client_id, credential_type: PASSWORDLESS_OTP_GRANT, realm: 'sms', username: e164, otp: code,
      }, { origin });
      const ticket = (await co.json()) as Json;
      assert.equal(co.status, 200, JSON.stringify(ticket));
      assert.equal(typeof ticket.login_ticket, 'string');
      const [scoa] = await t.logs('scoa', (l) => l.client_id === spa.client_id);
      assert.equal(scoa?.user_name, e164);
    });

    it('finishes a login page\'s SMS code at /passwordless/verify_redirect with phone_number, as Lock spells it (dial code + trunk 0)', async () => {
      // Lock 14 on a custom login page: POST /passwordless/start with the transaction state, then
      // auth0-js passwordlessVerify: POST /passwordless/verify, then the browser to verify_redirect
      // with `phone_number` (no `email`). Lock joins the dial code and the number as typed.
      const callback = 'https://sms-web.example.com/callback';
      const { client, secret } = await createClient(t.server, { app_type: 'regular_web', callbacks: [callback], grant_types: ['authorization_code'] }, { enableOn: 'sms' });
      const browser = new CookieJar(t.server.baseUrl, { 'user-agent': 'sms-lock-test' });
      const q = new URLSearchParams({ client_id: client.client_id, redirect_uri: callback, response_type: 'code', scope: 'openid phone', state: 'app-state-sms', connection: 'sms' });
      const authorize = await browser.fetch(`/authorize?${q}`);
      assert.equal(authorize.status, 302);
      const state = new URL(authorize.headers.get('location')!, t.server.baseUrl).searchParams.get('state')!;
      const typed = '+330698765401';
      const e164 = '+33698765401';
      const sent = await t.server.post('/passwordless/start', { client_id: client.client_id, connection: 'sms', phone_number: typed, send: 'code', authParams: { state } });
      assert.equal(sent.status, 200, await sent.clone().text());
      assert.equal(((await sent.json()) as Json).phone_number, e164);
      const msg = t.twilio.messages.at(-1)!;
      assert.equal(msg.to, e164);
      const code = codeFromSms(msg.body);
      const verify = await t.server.post('/passwordless/verify', { client_id: client.client_id, connection: 'sms', phone_number: typed, verification_code: code });
      assert.deepEqual({ status: verify.status, body: await verify.json() }, { status: 200, body: {} });

      const link = new URLSearchParams({ client_id: client.client_id, connection: 'sms', phone_number: typed, verification_code: code, state, redirect_uri: callback, response_type: 'code', scope: 'openid phone' });
      const page = await browser.fetch(`/passwordless/verify_redirect?${link}`);
      assert.equal(page.status, 200);
      const form = hiddenFields(await page.text());
      assert.equal(form.phone_number, typed);
      const done = await browser.postForm('/passwordless/verify_redirect', form);
      assert.equal(done.status, 302, await done.clone().text());
      const location = new URL(done.headers.get('location')!);
      assert.equal(`${location.origin}${location.pathname}`, callback);
      assert.equal(location.searchParams.get('state'), 'app-state-sms', "the app's own state, from the transaction");
      const tokens = await t.server.post('/oauth/token', {
        grant_type: 'authorization_code', client_id: client.client_id, client_secret: secret, code: location.searchParams.get('code'), redirect_uri: callback,
      });
      const body = (await tokens.json()) as Json;
      assert.equal(tokens.status, 200, JSON.stringify(body));
      const claims = decodeJwt(body.id_token);
      assert.equal(claims.phone_number, e164);
      assert.equal(claims.phone_verified, true);
      // Single use: the code is spent.
      const again = await new CookieJar(t.server.baseUrl).postForm('/passwordless/verify_redirect', form);
      assert.equal(again.status, 400);
      const [refused] = await t.logs('f', (l) => l.user_name === e164 && l.details?.method === 'sms_code');
      assert.equal(refused?.description, 'Wrong phone number or verification code.');
    });

    it('refuses unusable SMS options at the Management API', async () => {
      const cases: Json[] = [
        { provider: 'carrier-pigeon' },
        { ...t.gatewayOptions(), fraud_guards: { per_number: { max: 0 } } },
        { ...t.gatewayOptions(), syntax: 'liquid', template: '{% if %}' },
      ];
      for (const options of cases) {
        const res = await fetch(`${t.server.baseUrl}/api/v2/connections`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await t.server.mgmtToken()}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `bad-${Math.random().toString(36).slice(2, 8)}`, strategy: 'sms', options }),
        });
        assert.equal(res.status, 400, JSON.stringify(options));
        assert.equal(((await res.json()) as Json).errorCode, 'invalid_body');
      }
    });
  });
}
