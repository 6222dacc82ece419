import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { buildApp } from '../../src/app.ts';
import { createSession, readSession, signInUser } from '../../src/core/authorize.ts';
import { SECRET_PURPOSE } from '../../src/core/clients.ts';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { loadConfig } from '../../src/config/load.ts';
import { streamContext } from '../../src/logs/stream-delivery.ts';
import { listen } from '../../src/server.ts';
import { openSmsSecrets } from '../../src/sms/secrets.ts';
import type { EmailProvider } from '../../src/store/types.ts';
import { type Backend, backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { MGMT, type TestServer } from '../helpers/boot.ts';
import { cli } from '../helpers/cli.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { legacyHash, legacySeal } from '../helpers/legacy-seal.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { type SmtpSink, extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

/**
 * Issue 10 §3, end to end: a tenant written under secret A (and partly in the format from before key
 * ids) keeps working after a restart with SESAME_SECRET=B and SESAME_SECRET_PREVIOUS=A; `sesame
 * secrets reseal` moves every sealed value to B; after a restart with B alone the sealed values still
 * open, and what only a keyed hash under A named (a refresh token) is gone, as the README says.
 */
const A = 'rotation-secret-A-0123456789abcdefghijklmn';
const B = 'rotation-secret-B-0123456789abcdefghijklmn';
const LEGACY_PASS = 'legacy-smtp-pass-0042';
const TWILIO_TOKEN = 'twilio-token-under-A';
const STREAM_SECRET = 'stream-signing-secret-under-A-0123456789';

for (const { backend, skip } of await backendMatrix()) {
  describe(`rotating SESAME_SECRET [${backend}]`, { skip }, () => {
    let dir: string;
    let db: { url: string; drop(): Promise<void> };
    let sink: SmtpSink;
    let server: TestServer | undefined;
    const env = (secrets: Record<string, string>) => ({
      SESAME_PORT: '0', SESAME_HOST: '127.0.0.1', SESAME_DATABASE_URL: db.url, SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50',
      SESAME_START_LIMIT_PER_HOUR: '0', SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret,
      SESAME_LOG_LEVEL: 'silent', ...secrets,
    });
    const stop = async () => {
      await server?.close();
      server = undefined;
    };

    const boot = async (secrets: Record<string, string>): Promise<TestServer> => {
      await stop(); // one server at a time, even after a failed step
      const { app, services, report } = await buildApp(loadConfig(env(secrets)));
      const baseUrl = await listen(app, services);
      let token: string | undefined;
      const post = (path: string, body: unknown) => fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      server = {
        baseUrl, issuer: services.issuer, app, services, defaultApp: report.defaultApp!, post,
        async mgmtToken() {
          token ??= ((await (await post('/oauth/token', { grant_type: 'client_credentials', ...MGMT, audience: `${services.issuer}api/v2/` })).json()) as { access_token: string }).access_token;
          return token;
        },
        close: () => app.close(),
      };
      return server;
    };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sesame-rotation-'));
      db = backend === 'sqlite' ? { url: `sqlite:${join(dir, 'sesame.db')}`, drop: async () => {} } : await freshDatabase(backend as Backend);
      sink = await startSmtpSink();
    });
    after(async () => {
      await stop();
      await sink.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    // What phase 1 leaves for the later ones.
    let app: { client_id: string; client_secret: string };
    let legacyClient: { client_id: string; client_secret: string };
    let smsId: string;
    let streamId: string;
    let signingKid: string;
    let pendingCode: { email: string; otp: string };
    let refreshToken: string;
    let sessionToken: string;

    const otpLogin = (s: TestServer, creds: { client_id: string; client_secret: string }, email: string, otp: string, scope = 'openid') =>
      s.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...creds, username: email, otp, realm: 'email', scope });
    const startCode = async (s: TestServer, creds: { client_id: string; client_secret: string }, email: string) => {
      const res = await s.post('/passwordless/start', { ...creds, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, await res.clone().text());
      return extractCode(await sink.waitFor((m) => m.to === email, 30_000));
    };

    it('under secret A (and rows in the format from before key ids): a working tenant', async () => {
      const s = await boot({ SESAME_SECRET: A });
      const created = await mgmt(s, 'POST', '/clients', { name: 'Rotating app', app_type: 'regular_web', grant_types: [PASSWORDLESS_OTP_GRANT, 'refresh_token'] });
      app = { client_id: created.client_id, client_secret: created.client_secret };
      const email = await s.services.store.getConnectionByName('email');
      await s.services.store.setEnabledClients(email!.id, [{ client_id: app.client_id, status: true }]);
      smsId = (await mgmt(s, 'POST', '/connections', { name: 'sms', strategy: 'sms', options: { provider: 'twilio', twilio_sid: 'AC1', twilio_token: TWILIO_TOKEN, from: '+15005550006' } })).id;
      streamId = (await mgmt(s, 'POST', '/log-streams', { name: 'rot', type: 'http', sink: { httpEndpoint: 'http://127.0.0.1:9/x', signingSecret: STREAM_SECRET } })).id;
      // Written as an older Sesame wrote them: a bare hex client-secret hash and a v1 SMTP password.
      legacyClient = { client_id: 'legacy-client', client_secret: 'legacy-client-secret-0123456789abcdefgh' };
      const { client } = (await s.services.store.getClient(app.client_id))!;
      await s.services.store.insertClient({ ...client, client_id: legacyClient.client_id, name: 'Legacy' }, legacyHash(A, SECRET_PURPOSE, legacyClient.client_secret));
      await s.services.store.setEnabledClients(email!.id, [{ client_id: legacyClient.client_id, status: true }]);
      // Disabled, so that mail keeps going to the sink through SESAME_SMTP_URL.
      await s.services.store.putSetting('email_provider', {
        name: 'smtp', enabled: false, credentials: { smtp_host: '127.0.0.1', smtp_port: sink.port, smtp_user: 'u' }, smtp_pass_enc: legacySeal(A, LEGACY_PASS),
      } satisfies EmailProvider);

      const user = uniqueEmail('rot');
      const login = await otpLogin(s, app, user, await startCode(s, app, user), 'openid offline_access');
      assert.equal(login.status, 200, await login.clone().text());
      const body = (await login.json()) as { id_token: string; refresh_token: string };
      refreshToken = body.refresh_token;
      signingKid = decodeProtectedHeader(body.id_token).kid!;
      const other = uniqueEmail('legacy');
      const legacyLogin = await otpLogin(s, legacyClient, other, await startCode(s, legacyClient, other));
      assert.equal(legacyLogin.status, 200, `a bare hex client-secret hash still authenticates: ${await legacyLogin.text()}`);
      const pending = uniqueEmail('pending');
      pendingCode = { email: pending, otp: await startCode(s, app, pending) };
      const conn = (await s.services.store.getConnectionByName('email'))!;
      sessionToken = (await createSession(s.services, await signInUser(s.services, client, conn, user, { ip: '127.0.0.1' }))).token;
      await stop();
    });

    it('with B alone before a reseal, the server refuses to start and says why', async () => {
      await assert.rejects(boot({ SESAME_SECRET: B }), /SESAME_SECRET_PREVIOUS/);
    });

    it('with SESAME_SECRET=B and SESAME_SECRET_PREVIOUS=A everything keeps working', async () => {
      const s = await boot({ SESAME_SECRET: B, SESAME_SECRET_PREVIOUS: A });
      // A code issued under A, exchanged by a client whose secret was hashed under A.
      const res = await otpLogin(s, app, pendingCode.email, pendingCode.otp);
      assert.equal(res.status, 200, await res.clone().text());
      const idToken = ((await res.json()) as { id_token: string }).id_token;
      assert.equal(decodeProtectedHeader(idToken).kid, signingKid, 'the signing key sealed under A still signs');
      assert.equal(decodeJwt(idToken).email, undefined);
      // The client's secret was at hand: it is hashed under B now.
      assert.ok(s.services.keyring.isCurrent((await s.services.store.getClient(app.client_id))!.secretHash!), 'client secret re-hashed at authentication');
      const refreshed = await s.post('/oauth/token', { grant_type: 'refresh_token', ...app, refresh_token: refreshToken });
      assert.equal(refreshed.status, 200, await refreshed.clone().text());
      assert.ok(await readSession(s.services, sessionToken), 'the login session made under A is found');
      const sms = (await s.services.store.getConnection(smsId))!;
      assert.equal(openSmsSecrets(s.services.keyring, sms.options, sms.id).twilio_token, TWILIO_TOKEN);
      const stream = (await s.services.store.getLogStream(streamId))!;
      assert.equal(s.services.keyring.open(streamContext(streamId), stream.doc.signing_secret_enc!), STREAM_SECRET);
      const provider = (await s.services.store.getSetting<EmailProvider>('email_provider'))!;
      assert.equal(s.services.keyring.open('smtp', provider.smtp_pass_enc!), LEGACY_PASS, 'a v1 value from before key ids opens');
      // New values are B's.
      const fresh = uniqueEmail('fresh');
      assert.equal((await otpLogin(s, app, fresh, await startCode(s, app, fresh))).status, 200);
      await stop();
    });

    it('`sesame secrets reseal` moves every sealed value to B and counts what stays bound to A', async () => {
      const r = await cli(['secrets', 'reseal'], { ...env({ SESAME_SECRET: B, SESAME_SECRET_PREVIOUS: A }), PATH: process.env.PATH ?? '' });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /signing keys: 2 resealed/);
      assert.match(r.stdout, /SMS provider secrets: 1 resealed/);
      assert.match(r.stdout, /SMTP password: 1 resealed/);
      assert.match(r.stdout, /log stream secrets: 1 resealed/);
      // The Default App and the legacy client never authenticated under B; the refresh token and the
      // session are only known by their hash under A.
      assert.match(r.stdout, /client secrets: 2 \(/);
      assert.match(r.stdout, /refresh_token: 1 \(usable until/);
      assert.match(r.stdout, /session: 1 \(usable until/);
      assert.match(r.stdout, /Keep SESAME_SECRET_PREVIOUS until the client secrets above are re-hashed/);
      const again = await cli(['secrets', 'reseal'], { ...env({ SESAME_SECRET: B, SESAME_SECRET_PREVIOUS: A }), PATH: process.env.PATH ?? '' });
      assert.match(again.stdout, /signing keys: 0 resealed/, 'a second run has nothing left to do');
      const usage = await cli(['secrets'], { PATH: process.env.PATH ?? '' });
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /Usage: sesame secrets reseal/);
    });

    it('with B alone after the reseal: sealed values open, re-hashed clients sign in, A-only hashes are gone', async () => {
      const s = await boot({ SESAME_SECRET: B });
      const sms = (await s.services.store.getConnection(smsId))!;
      assert.equal(openSmsSecrets(s.services.keyring, sms.options, sms.id).twilio_token, TWILIO_TOKEN);
      const stream = (await s.services.store.getLogStream(streamId))!;
      assert.equal(s.services.keyring.open(streamContext(streamId), stream.doc.signing_secret_enc!), STREAM_SECRET);
      assert.equal(s.services.keyring.open('smtp', (await s.services.store.getSetting<EmailProvider>('email_provider'))!.smtp_pass_enc!), LEGACY_PASS);
      const user = uniqueEmail('after');
      const res = await otpLogin(s, app, user, await startCode(s, app, user));
      assert.equal(res.status, 200, 'the client re-hashed under B authenticates; the resealed key signs');
      assert.equal(decodeProtectedHeader(((await res.json()) as { id_token: string }).id_token).kid, signingKid);
      // Documented loss when A is dropped before they expire: hashes only A could make.
      assert.equal((await otpLogin(s, legacyClient, user, '000000')).status, 401, 'a client secret still hashed under A');
      assert.equal(await readSession(s.services, sessionToken), undefined, 'a session made under A');
      const r = await mgmtCall(s, 'GET', `/connections/${smsId}`);
      assert.equal(r.status, 200);
      await stop();
    });
  });
}
