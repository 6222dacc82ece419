import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, decodeJwt, importPKCS8 } from 'jose';
import { backendMatrix } from '../helpers/backends.ts';
import { createClient, rsaKeyPair, uniqueEmail } from '../helpers/fixtures.ts';
import { queuedMessages, useMailServer } from '../helpers/mail-server.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

const DEPRECATION =
  'Enforce client authentication for passwordless connections: This feature is being deprecated. Please see details.feature of this log for more information.';
const telemetry = Buffer.from(JSON.stringify({ name: 'node-auth0', version: '4.37.1', env: { node: '20.20.2' } })).toString('base64url');

for (const { backend, skip } of await backendMatrix()) {
  describe(`POST /passwordless/start [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);

    const start = (body: unknown, headers?: Record<string, string>) => ctx.server.post('/passwordless/start', body, headers);
    const logsOf = async (type: string, clientId: string) =>
      (await ctx.server.services.store.searchLogs({ query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: type, wildcard: false }, { kind: 'term', fields: ['client_id'], value: clientId, wildcard: false }] }, page: 0, perPage: 100, sort: { field: 'date', dir: 'desc' } })).items;

    const setFlag = (on: boolean) =>
      ctx.server.services.store.putSetting('tenant', { friendly_name: 'T', flags: { enforce_client_authentication_on_passwordless_start: on } });
    const outboxTotal = () => queuedMessages(ctx.server);

    it('sends a code for a confidential client that authenticates with client_secret, without a depnote', async () => {
      const { client, secret } = await createClient(ctx.server, { app_type: 'regular_web' });
      const email = uniqueEmail();
      const res = await start({ client_id: client.client_id, client_secret: secret, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['_id', 'email', 'email_verified']);
      assert.equal(body.email, email);
      assert.equal(body.email_verified, false);
      const mail = await ctx.sink.waitFor((m) => m.to.includes(email));
      assert.match(extractCode(mail), /^\d{6}$/);
      assert.equal((await logsOf('depnote', client.client_id)).length, 0);
      const [cs] = await logsOf('cs', client.client_id);
      assert.equal(cs?.description, 'Passwordless login code has been sent');
      assert.ok(!JSON.stringify(cs).includes(extractCode(mail)), 'the cs log must not contain the code');
    });

    it('accepts HTTP Basic client authentication', async () => {
      const { client, secret } = await createClient(ctx.server, { app_type: 'regular_web', token_endpoint_auth_method: 'client_secret_basic' });
      const basic = Buffer.from(`${client.client_id}:${secret}`).toString('base64');
      const res = await start({ client_id: client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' }, { authorization: `Basic ${basic}` });
      assert.equal(res.status, 200);
      assert.equal((await logsOf('depnote', client.client_id)).length, 0);
    });

    it('lets public clients start without authentication and without a depnote', async () => {
      for (const app_type of ['spa', 'native'] as const) {
        const { client } = await createClient(ctx.server, { app_type });
        const res = await start({ client_id: client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
        assert.equal(res.status, 200, app_type);
        assert.equal((await logsOf('depnote', client.client_id)).length, 0);
      }
    });

    it('answers 401 access_denied for a wrong secret, whatever the flag says', async () => {
      const { client } = await createClient(ctx.server, { app_type: 'regular_web' });
      try {
        for (const flag of [false, true]) {
          await setFlag(flag);
          const res = await start({ client_id: client.client_id, client_secret: 'wrong', connection: 'email', email: uniqueEmail(), send: 'code' });
          assert.equal(res.status, 401);
          assert.deepEqual(await res.json(), { error: 'access_denied', error_description: 'Unauthorized' });
        }
      } finally {
        await setFlag(false);
      }
    });

    // Spec §1.2: with the flag on, an unauthenticated confidential client gets 403 and nothing is sent.
    it('answers 403 unauthorized_client to an unauthenticated confidential client while the flag is on, and sends nothing', async () => {
      const { client, secret } = await createClient(ctx.server, { app_type: 'regular_web' });
      const { client: spa } = await createClient(ctx.server, { app_type: 'spa' });
      try {
        await setFlag(true);
        const before = await outboxTotal();
        const res = await start({ client_id: client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
        assert.equal(res.status, 403);
        assert.deepEqual(await res.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
        assert.equal(await outboxTotal(), before, 'no message was queued');
        assert.equal((await logsOf('depnote', client.client_id)).length, 0, 'enforced, so no deprecation notice');
        // The flag only closes the unauthenticated path: an authenticated or public client still starts.
        const authed = await start({ client_id: client.client_id, client_secret: secret, connection: 'email', email: uniqueEmail(), send: 'code' });
        assert.equal(authed.status, 200);
        const pub = await start({ client_id: spa.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
        assert.equal(pub.status, 200);
        assert.equal(await outboxTotal(), before + 2);
      } finally {
        await setFlag(false);
      }
    });

    it('logs a depnote with the caller context for an unauthenticated confidential call while the flag is off', async () => {
      const { client } = await createClient(ctx.server, { app_type: 'non_interactive' });
      const email = uniqueEmail();
      const res = await start({ client_id: client.client_id, connection: 'email', email, send: 'code' }, { 'auth0-client': telemetry, 'user-agent': 'backend/1.0' });
      assert.equal(res.status, 200);
      await ctx.sink.waitFor((m) => m.to.includes(email));
      const [dep] = await logsOf('depnote', client.client_id);
      assert.ok(dep, 'a depnote log');
      assert.equal(dep.description, DEPRECATION);
      assert.equal(dep.client_name, client.name);
      assert.equal(dep.connection, 'email');
      assert.equal(dep.user_agent, 'backend/1.0');
      assert.equal(dep.ip, '127.0.0.1');
      assert.deepEqual(dep.auth0_client, { name: 'node-auth0', version: '4.37.1', env: { node: '20.20.2' } });
      const details = dep.details as { feature: { id: string }; method: string; path: string };
      assert.equal(details.feature.id, 'enforce_client_authentication_on_passwordless_start');
      assert.equal(details.path, '/passwordless/start');
    });

    it('authenticates private_key_jwt assertions: aud = issuer, lifetime ≤ 300 s, single-use jti', async () => {
      const keys = rsaKeyPair();
      const now = () => new Date().toISOString();
      const { client } = await createClient(ctx.server, {
        app_type: 'regular_web',
        token_endpoint_auth_method: null,
        client_authentication_methods: { private_key_jwt: { credentials: [{ id: 'cred_test1', credential_type: 'public_key', pem: keys.publicPem, alg: 'RS256', created_at: now(), updated_at: now() }] } },
      });
      const key = await importPKCS8(keys.privatePem, 'RS256');
      const assertion = (claims: { aud?: string; life?: number; jti?: string; ahead?: number } = {}) => {
        const iat = Math.floor(Date.now() / 1000) + (claims.ahead ?? 0);
        return new SignJWT({ jti: claims.jti ?? randomUUID() })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(client.client_id)
          .setSubject(client.client_id)
          .setAudience(claims.aud ?? ctx.server.issuer)
          .setIssuedAt(iat)
          .setExpirationTime(iat + (claims.life ?? 120))
          .sign(key);
      };
      const call = async (a: string) =>
        start({ client_id: client.client_id, client_assertion: a, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', connection: 'email', email: uniqueEmail(), send: 'code' });
      const jti = randomUUID();
      assert.equal((await call(await assertion({ jti }))).status, 200);
      assert.equal((await call(await assertion({ jti }))).status, 401, 'a replayed jti is refused');
      assert.equal((await call(await assertion({ life: 301 }))).status, 401, 'lifetime over 300 s');
      // Issue 10 §5: issued in the future, or valid for more than 300 s from now.
      assert.equal((await call(await assertion({ ahead: 365 * 86400 }))).status, 401, 'iat a year ahead');
      assert.equal((await call(await assertion({ ahead: 60 }))).status, 401, 'iat beyond the clock skew');
      assert.equal((await call(await assertion({ ahead: 8, life: 298 }))).status, 401, 'exp − now over 300 s');
      // The jti is kept until exp plus the 10 s skew, for as long as the assertion is accepted.
      const store = ctx.server.services.store;
      const kept: number[] = [];
      const use = store.useAssertionJti.bind(store);
      store.useAssertionJti = (c, j, until) => (kept.push(until), use(c, j, until));
      try {
        const a = await assertion({ life: 60 });
        assert.equal((await call(a)).status, 200);
        assert.deepEqual(kept, [(decodeJwt(a).exp! + 10) * 1000]);
      } finally {
        store.useAssertionJti = use;
      }
      assert.equal((await call(await assertion({ aud: 'https://elsewhere.example/' }))).status, 401, 'wrong audience');
      const other = rsaKeyPair();
      const forged = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'RS256' }).setIssuer(client.client_id).setSubject(client.client_id).setAudience(ctx.server.issuer).setIssuedAt().setExpirationTime('2m').sign(await importPKCS8(other.privatePem, 'RS256'));
      assert.equal((await call(forged)).status, 401, 'signed by an unregistered key');
      assert.equal((await logsOf('depnote', client.client_id)).length, 0);
    });

    it('refuses two authentication methods in one request', async () => {
      const { client, secret } = await createClient(ctx.server, { app_type: 'regular_web' });
      const basic = Buffer.from(`${client.client_id}:${secret}`).toString('base64');
      const res = await start({ client_id: client.client_id, client_secret: secret, connection: 'email', email: uniqueEmail(), send: 'code' }, { authorization: `Basic ${basic}` });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    });

    it('requires the passwordless grant and an enabled connection', async () => {
      const noGrant = await createClient(ctx.server, { app_type: 'spa', grant_types: ['authorization_code'] });
      let res = await start({ client_id: noGrant.client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), {
        error: 'unauthorized_client',
        error_description: "Grant type 'http://auth0.com/oauth/grant-type/passwordless/otp' not allowed for the client.",
        error_uri: 'https://auth0.com/docs/clients/client-grant-types',
      });
      const disabled = await createClient(ctx.server, { app_type: 'spa' }, { enableOn: null });
      res = await start({ client_id: disabled.client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: 'bad.connection', error_description: 'Connection is disabled' });
    });

    it("answers Auth0's byte-exact errors for bad bodies, never a 5xx", async () => {
      const { client } = await createClient(ctx.server, { app_type: 'spa' });
      const id = client.client_id;
      const cases: [unknown, number, string, string?][] = [
        [{ connection: 'email', email: 'a@b.co' }, 400, 'bad.client_id', 'Missing required property: client_id'],
        [{ client_id: id, email: 'a@b.co' }, 400, 'bad.connection', 'Missing required property: connection'],
        [{ client_id: id, connection: 'nope', email: 'a@b.co', send: 'code' }, 400, 'bad.connection', 'Connection does not exist'],
        [{ client_id: id, connection: 'email', email: 'a@b.co', authParams: 'x' }, 400, 'bad.authParams', 'error in authParams - invalid type: string (expected object)'],
        [{ client_id: id, connection: 'email', send: 'code' }, 400, 'bad.email', 'Missing required property: email'],
        [{ client_id: id, connection: 'email', email: 'not-an-email', send: 'code' }, 400, 'bad.email', 'error in email - email format validation failed: not-an-email'],
        [{ client_id: id, connection: 'email', email: 'a@b.co', send: 'smoke' }, 400, 'bad.send'],
        [{ client_id: 'unknown-client', connection: 'email', email: 'a@b.co', send: 'code' }, 400, 'bad.client_id'],
        [{ client_id: 42, connection: 'email' }, 400, 'bad.client_id'],
        [{ client_id: id, connection: ['email'] }, 400, 'bad.connection'],
        [{ client_id: id, connection: 'email', email: { $ne: 1 }, send: 'code' }, 400, 'bad.email'],
        [{ client_id: id, connection: 'email', phone_number: '12345', send: 'code' }, 400, 'bad.phone_number', 'String does not match pattern: ^\\+[0-9]{1,15}$'],
        [[1, 2], 400, 'bad.request'],
        ['null', 400, 'bad.request'],
        ['{"client_id":', 400, 'invalid_request'],
        [{ client_id: id, connection: 'email', email: `${'a'.repeat(300)}@b.co`, send: 'code' }, 400, 'bad.email'],
        [{ client_id: 'x'.repeat(70_000) }, 413, 'request_too_large'],
        // U+0000 cannot be stored in PostgreSQL text: refused up front on both backends.
        [{ client_id: 'a\u0000b', connection: 'email', email: 'a@b.co', send: 'code' }, 400, 'invalid_request'],
        [{ client_id: id, connection: 'email', email: 'a@b.co', send: 'code', authParams: { 'k\u0000': 1 } }, 400, 'invalid_request'],
      ];
      for (const [body, status, error, description] of cases) {
        const res = await start(body);
        const json = (await res.json()) as { error: string; error_description: string };
        assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
        assert.equal(json.error, error, JSON.stringify(body).slice(0, 80));
        if (description) assert.equal(json.error_description, description);
      }
      const wrongType = await fetch(`${ctx.server.baseUrl}/passwordless/start`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      assert.ok(wrongType.status >= 400 && wrongType.status < 500);
      const badUrl = await fetch(`${ctx.server.baseUrl}/passwordless/start?x=%E0%A4%A`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.ok(badUrl.status >= 400 && badUrl.status < 500);
      const badMgmtUrl = await fetch(`${ctx.server.baseUrl}/api/v2/clients/%E0%A4%A`, { headers: { authorization: `Bearer ${await ctx.server.mgmtToken()}` } });
      assert.equal(badMgmtUrl.status, 400);
      assert.equal(((await badMgmtUrl.json()) as { statusCode: number }).statusCode, 400);
    });

    it('passes X-Request-Language (over Accept-Language) to the template', async () => {
      const { client } = await createClient(ctx.server, { app_type: 'spa' });
      const conn = (await ctx.server.services.store.getConnectionByName('email'))!;
      const original = conn.options;
      await ctx.server.services.store.updateConnection({ ...conn, options: { ...original, email: { subject: 'Code', syntax: 'liquid', body: '<p>lang={{ request_language }} code={{ code }}</p>' } } });
      try {
        const email = uniqueEmail('lang');
        await start({ client_id: client.client_id, connection: 'email', email, send: 'code' }, { 'x-request-language': 'fr-CA', 'accept-language': 'de' });
        const mail = await ctx.sink.waitFor((m) => m.to.includes(email));
        assert.match(mail.text, /lang=fr-CA/);
        const email2 = uniqueEmail('lang');
        await start({ client_id: client.client_id, connection: 'email', email: email2, send: 'code' }, { 'accept-language': 'de-DE,de;q=0.9' });
        assert.match((await ctx.sink.waitFor((m) => m.to.includes(email2))).text, /lang=de-DE/);
      } finally {
        await ctx.server.services.store.updateConnection({ ...conn, options: original });
      }
    });
  });
}
