import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_PROVIDERS, type ApiProviderName } from '../../src/mail/providers/catalog.ts';
import type { EmailProvider } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { type EmailApiFake, startEmailApiFake } from '../helpers/email-api-fakes.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { until } from '../helpers/mail-env.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/**
 * Issue 14: the email providers Auth0 names, configured through /api/v2/emails/provider, deliver
 * the passwordless code through each provider's HTTP API (a local fake per provider checks the
 * request shape and authentication), and their failures go through the outbox's retries and `fn`
 * logs: a refused key once, never a retry storm; a 429/5xx or a timeout retried until delivered.
 */
const FROM = 'Acme Login <login@acme.example>';
const TIMEOUT_MS = 400;

for (const { backend, skip } of await backendMatrix()) {
  describe(`email API providers [${backend}]`, { skip }, () => {
    let server: TestServer;
    const fakes = {} as Record<ApiProviderName, EmailApiFake>;
    let app: { client_id: string; secret: string; name: string };

    before(async () => {
      for (const name of API_PROVIDERS) fakes[name] = await startEmailApiFake(name);
      const origins = Object.fromEntries(API_PROVIDERS.map((n) => [`SESAME_EMAIL_API_URL_${n.toUpperCase()}`, fakes[n].url]));
      server = await bootServer({
        backend,
        env: {
          ...origins,
          SESAME_MAIL_POLL_MS: '50',
          SESAME_MAIL_RETRY_BASE_MS: '150',
          SESAME_EMAIL_API_TIMEOUT_MS: String(TIMEOUT_MS),
          SESAME_START_LIMIT_PER_HOUR: '0',
          SESAME_IDENTIFIER_STARTS_PER_HOUR: '0',
          SESAME_IDENTIFIER_STARTS_PER_DAY: '0',
        },
      });
      const { client, secret } = await createClient(server, { app_type: 'regular_web' });
      app = { client_id: client.client_id, secret, name: client.name };
    });
    after(async () => {
      await server?.close();
      for (const f of Object.values(fakes)) await f.close();
    });

    const removeProvider = () => fetch(`${server.baseUrl}/api/v2/emails/provider`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    let token = '';
    /** Replaces the provider, then waits out the mail worker's once-a-second look at it (mail/transport.ts). */
    const configure = async (body: Record<string, unknown>) => {
      token = await server.mgmtToken();
      await removeProvider();
      const created = await mgmtCall(server, 'POST', '/emails/provider', body);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      await sleep(1_100);
      return created.json;
    };
    const start = async (email: string) => {
      const res = await server.post('/passwordless/start', { client_id: app.client_id, client_secret: app.secret, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, await res.text());
    };
    const fnLogFor = async (email: string) =>
      (await server.services.store.searchLogs({ query: { kind: 'term', fields: ['type'], value: 'fn', wildcard: false }, page: 0, perPage: 50, sort: { field: 'date', dir: 'desc' } })).items.find((l) => l.details?.to === email);
    const requestsFor = (f: EmailApiFake) => f.attempts;

    for (const name of API_PROVIDERS) {
      it(`${name}: the code mail goes through its API with from, to, subject, html and text; GET hides the secrets`, async () => {
        const fake = fakes[name];
        const created = await configure({ name, enabled: true, default_from_address: FROM, credentials: fake.credentials });
        const secrets = Object.entries(fake.credentials).filter(([k]) => ['api_key', 'secretAccessKey', 'server_token'].includes(k)).map(([, v]) => String(v));
        const shown = await mgmtCall(server, 'GET', '/emails/provider');
        for (const text of [JSON.stringify(created), JSON.stringify(shown.json)]) for (const secret of secrets) assert.ok(!text.includes(secret), `${name}: a secret in an answer`);
        const visible = Object.fromEntries(Object.entries(fake.credentials).filter(([k]) => !['api_key', 'secretAccessKey', 'server_token'].includes(k)));
        assert.deepEqual(shown.json, { name, enabled: true, default_from_address: FROM, credentials: visible });
        const stored = await server.services.store.getSetting<EmailProvider>('email_provider');
        for (const secret of secrets) assert.ok(!JSON.stringify(stored).includes(secret), 'stored only sealed');

        const email = uniqueEmail(name);
        await start(email);
        const m = await fake.waitFor((x) => x.to === email);
        assert.equal(m.from, FROM);
        assert.equal(m.subject, `Your ${app.name} verification code`);
        const code = extractCode(m);
        assert.match(m.html, new RegExp(`>${code}<`));
        await until(async () => (await server.services.store.countOutbox('pending')) === 0, 'the row to be marked sent');

        // A PATCH without the key keeps it: the next mail still authenticates.
        await mgmt(server, 'PATCH', '/emails/provider', { default_from_address: 'Acme <other@acme.example>' });
        await sleep(1_100);
        const again = uniqueEmail(name);
        await start(again);
        assert.equal((await fake.waitFor((x) => x.to === again)).from, 'Acme <other@acme.example>');
      });
    }

    const WRONG: [ApiProviderName, string, RegExp][] = [
      ['sendgrid', 'api_key', /^SendGrid answered 401: The provided authorization grant is invalid/],
      ['mailgun', 'api_key', /^Mailgun answered 401: Forbidden$/],
      ['postmark', 'server_token', /^Postmark answered 401: Request does not contain a valid Server token\.$/],
      ['sparkpost', 'api_key', /^SparkPost answered 401: Unauthorized\.$/],
    ];
    for (const [name, field, error] of WRONG) {
      it(`${name}: a refused key (401) is given up after one attempt with an fn log naming the answer, never retried`, async () => {
        const fake = fakes[name];
        const wrong = 'wrong-key-0123456789';
        await configure({ name, enabled: true, default_from_address: FROM, credentials: { ...fake.credentials, [field]: wrong } });
        const before = requestsFor(fake);
        const email = uniqueEmail('refused');
        await start(email);
        await until(async () => (await fnLogFor(email)) !== undefined, 'the fn log');
        const fn = (await fnLogFor(email))!;
        assert.equal(fn.description, 'Failed Sending Notification');
        assert.match(String(fn.details?.error), error);
        assert.ok(!JSON.stringify(fn).includes(wrong), 'the key is not in the log');
        await sleep(6 * 150); // several retry periods: a retried row would be sent again
        assert.equal(requestsFor(fake) - before, 1, 'one request, no retry storm');
        assert.equal(fake.delivered.filter((m) => m.to === email).length, 0);
      });
    }

    it('SES with a wrong secret: the fake refuses the SigV4 signature (403), given up with an fn log', async () => {
      const fake = fakes.ses;
      await configure({ name: 'ses', enabled: true, default_from_address: FROM, credentials: { ...fake.credentials, secretAccessKey: 'not-the-secret' } });
      const email = uniqueEmail('badsig');
      await start(email);
      await until(async () => (await fnLogFor(email)) !== undefined, 'the fn log');
      assert.match(String((await fnLogFor(email))!.details?.error), /^Amazon SES answered 403: The request signature we calculated does not match/);
    });

    it('429 and 503 are retried, and the mail is delivered once', async () => {
      const fake = fakes.postmark;
      await configure({ name: 'postmark', enabled: true, default_from_address: FROM, credentials: fake.credentials });
      const before = requestsFor(fake);
      fake.fail(429);
      fake.fail(503);
      const email = uniqueEmail('retried');
      await start(email);
      await fake.waitFor((x) => x.to === email);
      await sleep(500);
      assert.equal(requestsFor(fake) - before, 3, 'two refusals, then the delivery');
      assert.equal(fake.delivered.filter((m) => m.to === email).length, 1, 'delivered once');
      assert.equal(await fnLogFor(email), undefined);
    });

    for (const name of ['mailgun', 'postmark'] as const) {
      it(`${name}: an API that does not answer within SESAME_EMAIL_API_TIMEOUT_MS is retried`, async () => {
        const fake = fakes[name];
        await configure({ name, enabled: true, default_from_address: FROM, credentials: fake.credentials });
        const before = requestsFor(fake);
        fake.fail('hang');
        const email = uniqueEmail('slow');
        const t0 = Date.now();
        await start(email);
        await fake.waitFor((x) => x.to === email);
        assert.ok(Date.now() - t0 >= TIMEOUT_MS, 'the first attempt waited for the timeout');
        assert.equal(requestsFor(fake) - before, 2);
        assert.equal(fake.delivered.filter((m) => m.to === email).length, 1);
        await sleep(300);
        assert.equal(await fnLogFor(email), undefined);
      });
    }

    it('refuses the Auth0 providers Sesame has no sender for, and bad credentials, with a 400 naming them', async () => {
      token = await server.mgmtToken();
      await removeProvider();
      for (const name of ['mandrill', 'azure_cs', 'ms365', 'custom']) {
        const r = await mgmtCall(server, 'POST', '/emails/provider', { name, credentials: { api_key: 'x' } });
        assert.equal(r.status, 400);
        assert.match(r.json.message, new RegExp(`does not support the email provider "${name}"; it can send email with: smtp, sendgrid, mailgun, ses, postmark, sparkpost`));
      }
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ name: 'sendgrid', credentials: {} }, /Missing required property: credentials\.api_key/],
        [{ name: 'mailgun', credentials: { api_key: 'k' } }, /credentials\.domain/],
        [{ name: 'mailgun', credentials: { api_key: 'k', domain: 'mg.example.com', region: 'us' } }, /credentials\.region is invalid: expected "eu" or null/],
        [{ name: 'ses', credentials: { accessKeyId: 'AKIAEXAMPLE000000', secretAccessKey: 's', region: 'eu' } }, /credentials\.region is invalid: expected an AWS region/],
        [{ name: 'postmark', credentials: { api_key: 'k' } }, /credentials\.api_key is not a postmark credential \(expected server_token\)/],
        [{ name: 'sparkpost', credentials: { api_key: '' } }, /credentials\.api_key is invalid/],
        [{ name: 'nosuch', credentials: {} }, /Unknown email provider "nosuch"/],
      ];
      for (const [body, message] of cases) {
        const r = await mgmtCall(server, 'POST', '/emails/provider', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(r.json.message, message);
      }
      // A change of provider does not inherit the other one's key.
      await mgmt(server, 'POST', '/emails/provider', { name: 'sendgrid', credentials: { api_key: 'SG.key' } });
      const switched = await mgmtCall(server, 'PATCH', '/emails/provider', { name: 'sparkpost' });
      assert.equal(switched.status, 400);
      assert.match(switched.json.message, /Missing required property: credentials\.api_key/);
      assert.equal((await mgmtCall(server, 'PATCH', '/emails/provider', { name: 'sparkpost', credentials: { api_key: 'sp-key', region: 'eu' } })).status, 200);
      assert.equal((await removeProvider()).status, 204);
    });
  });
}
