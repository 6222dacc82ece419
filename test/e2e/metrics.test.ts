import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT as GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { bootServer } from '../helpers/boot.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { uniquePhone, useSmsTenant } from '../helpers/sms-tenant.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/** Prometheus text → `name{a="1",b="2"}` (labels sorted) → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = (m[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    out.set(`${m[1]}{${labels.sort().join(',')}}`, Number(m[3]));
  }
  return out;
}
const key = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;

for (const { backend, skip } of await backendMatrix()) {
  describe(`GET /metrics [${backend}]`, { skip }, () => {
    it('is absent unless SESAME_METRICS=1 or SESAME_METRICS_PORT', async () => {
      const server = await bootServer({ backend });
      try {
        assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404);
        assert.equal(server.services.metrics, undefined);
      } finally {
        await server.close();
      }
    });

    describe('with SESAME_METRICS=1', () => {
      // A cap of two codes an hour per address, so a third start trips `limit_mu`.
      const ctx = useMailServer(backend, { env: { SESAME_METRICS: '1', SESAME_IDENTIFIER_STARTS_PER_HOUR: '2' } });
      const scrape = async () => {
        const res = await fetch(`${ctx.server.baseUrl}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        return { text: await res.clone().text(), values: parse(await res.text()) };
      };
      const start = (email: string, creds: object = ctx.server.defaultApp) =>
        ctx.server.post('/passwordless/start', { ...creds, connection: 'email', email, send: 'code' });
      const exchange = (email: string, otp: string) =>
        ctx.server.post('/oauth/token', { grant_type: GRANT, ...ctx.server.defaultApp, username: email, otp, realm: 'email' });

      it('counts a start, an exchange and a failed verification, by route pattern and status', async () => {
        const before = (await scrape()).values;
        const email = uniqueEmail('metrics');
        assert.equal((await start(email)).status, 200);
        const code = extractCode(await ctx.sink.waitFor((m) => m.to === email, 30_000));
        assert.equal((await exchange(email, code)).status, 200);
        const other = uniqueEmail('metrics-wrong');
        assert.equal((await start(other)).status, 200);
        const otherCode = extractCode(await ctx.sink.waitFor((m) => m.to === other, 30_000));
        assert.equal((await exchange(other, otherCode === '000000' ? '111111' : '000000')).status, 403);
        // A raw URL with an id, and one no route matches: neither may become a label.
        assert.equal((await fetch(`${ctx.server.baseUrl}/api/v2/users/email%7Csecret-looking-id`)).status, 401);
        assert.equal((await fetch(`${ctx.server.baseUrl}/no-such-page-xyz`)).status, 404);

        // The mail thread reports its sends asynchronously (and may take seconds to start on a busy machine): wait for both.
        const sentKey = key('sesame_mail_sends_total', { outcome: 'sent' });
        let after = (await scrape());
        for (const until = Date.now() + 30_000; Date.now() < until && (after.values.get(sentKey) ?? 0) < (before.get(sentKey) ?? 0) + 2;) {
          await new Promise((r) => setTimeout(r, 50));
          after = await scrape();
        }
        const delta = (k: string) => (after.values.get(k) ?? 0) - (before.get(k) ?? 0);
        const http = (method: string, route: string, status: string) =>
          delta(key('sesame_http_request_duration_seconds_count', { method, route, status }));

        assert.equal(delta(key('sesame_passwordless_issued_total', { channel: 'email', kind: 'code' })), 2);
        assert.equal(delta(key('sesame_passwordless_verifications_total', { channel: 'email', outcome: 'verified' })), 1);
        assert.equal(delta(key('sesame_passwordless_verifications_total', { channel: 'email', outcome: 'wrong' })), 1);
        assert.equal(delta(sentKey), 2);
        assert.equal(http('POST', '/passwordless/start', '200'), 2);
        assert.equal(http('POST', '/oauth/token', '200'), 1);
        assert.equal(http('POST', '/oauth/token', '403'), 1);
        assert.equal(http('GET', '/api/v2/users/:id', '401'), 1);
        assert.equal(http('GET', '(unmatched)', '404'), 1);
        assert.ok(!after.text.includes('secret-looking-id') && !after.text.includes('no-such-page'), 'raw URLs are never labels');
        // Latency buckets exist for the route (a histogram, not only a count).
        assert.ok(after.values.has(key('sesame_http_request_duration_seconds_bucket', { method: 'POST', route: '/passwordless/start', status: '200', le: '+Inf' })));
        // Read at scrape time from the database.
        assert.equal(after.values.get(key('sesame_outbox_pending')), 0);
        assert.equal(after.values.get(key('sesame_outbox_oldest_pending_age_seconds')), 0);
        if (backend === 'postgres') {
          assert.ok((after.values.get(key('sesame_db_pool_connections', { state: 'total' })) ?? 0) >= 1);
          assert.ok(after.values.has(key('sesame_db_pool_waiting')));
        }
        assert.ok(after.values.has(key('sesame_process_resident_memory_bytes')));
      });

      it('counts depnotes and limit trips', async () => {
        const before = (await scrape()).values;
        const email = uniqueEmail('metrics-limit');
        // The default application is confidential: a start without its secret passes with a depnote.
        assert.equal((await start(email, { client_id: ctx.server.defaultApp.client_id })).status, 200);
        assert.equal((await start(email)).status, 200);
        assert.equal((await start(email)).status, 429); // SESAME_IDENTIFIER_STARTS_PER_HOUR=2
        const after = (await scrape()).values;
        const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
        assert.equal(delta(key('sesame_depnotes_total')), 1);
        assert.equal(delta(key('sesame_limit_trips_total', { limit: 'limit_mu:identifier-starts-per_hour' })), 1);
        assert.equal(delta(key('sesame_passwordless_issued_total', { channel: 'email', kind: 'code' })), 2);
      });
    });

    describe('SMS sends', () => {
      const t = useSmsTenant(backend, { SESAME_METRICS: '1' });
      it('counts each provider call by outcome, and SMS codes issued', async () => {
        const roomy = { fraud_guards: { per_prefix: { max: 1000 }, per_ip_range: { max: 1000 } } };
        await t.connection('sms', t.twilioOptions(roomy));
        await t.connection('sms-bad', t.twilioOptions({ ...roomy, twilio_token: 'wrong' }));
        const scrape = async () => parse(await (await fetch(`${t.server.baseUrl}/metrics`)).text());
        const before = await scrape();
        const start = (connection: string) => t.server.post('/passwordless/start', { ...t.server.defaultApp, connection, phone_number: uniquePhone(), send: 'code' });
        assert.equal((await start('sms')).status, 200);
        assert.equal((await start('sms-bad')).status, 400);
        const after = await scrape();
        const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
        assert.equal(delta(key('sesame_sms_sends_total', { provider: 'twilio', outcome: 'sent' })), 1);
        assert.equal(delta(key('sesame_sms_sends_total', { provider: 'twilio', outcome: 'failed' })), 1);
        assert.equal(delta(key('sesame_passwordless_issued_total', { channel: 'sms', kind: 'code' })), 1);
      });
    });

    it('SESAME_METRICS_PORT serves them on their own port (loopback), never on the application port', async () => {
      const server = await bootServer({ backend, env: { SESAME_METRICS_PORT: '0' } });
      try {
        assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404);
        const url = server.services.metrics?.url;
        assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        await fetch(`${server.baseUrl}/.well-known/jwks.json`);
        const res = await fetch(url!);
        assert.equal(res.status, 200);
        const values = parse(await res.text());
        assert.equal(values.get(key('sesame_http_request_duration_seconds_count', { method: 'GET', route: '/.well-known/jwks.json', status: '200' })), 1);
        assert.equal((await fetch(new URL('/other', url))).status, 404);
      } finally {
        await server.close();
      }
      // Closed with the application.
      await assert.rejects(fetch(server.services.metrics!.url!));
    });
  });
}
