import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';

const LIMIT = 3;

for (const { backend, skip } of await backendMatrix()) {
  describe(`per-IP limit on /passwordless/start [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: String(LIMIT) } });
    });
    after(async () => server?.close());

    it('counts per IP, answers 429 with X-RateLimit headers, and logs api_limit once', async () => {
      const { client } = await createClient(server, { app_type: 'spa' });
      const body = () => ({ client_id: client.client_id, connection: 'email', email: uniqueEmail(), send: 'code' });
      for (let i = 0; i < LIMIT; i++) {
        const res = await server.post('/passwordless/start', body());
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-ratelimit-limit'), String(LIMIT));
        assert.equal(res.headers.get('x-ratelimit-remaining'), String(LIMIT - i - 1));
        assert.ok(Number(res.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
      }
      for (let i = 0; i < 2; i++) {
        const res = await server.post('/passwordless/start', body());
        assert.equal(res.status, 429);
        assert.deepEqual(await res.json(), {
          error: 'too_many_requests',
          error_description: 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
        });
        assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
        assert.ok(Number(res.headers.get('retry-after')) > 0);
      }
      const limits = await server.services.store.searchLogs({ query: { kind: 'term', fields: ['type'], value: 'api_limit', wildcard: false }, page: 0, perPage: 10, sort: { field: 'date', dir: 'desc' } });
      assert.equal(limits.total, 1);
    });

    it('honours auth0-forwarded-for only for an authenticated, trusting confidential client', async () => {
      const trusted = await createClient(server, { app_type: 'regular_web', is_token_endpoint_ip_header_trusted: true });
      const untrusted = await createClient(server, { app_type: 'regular_web', is_token_endpoint_ip_header_trusted: false });
      const call = (c: { client: { client_id: string }; secret: string }, ip: string, withSecret = true) =>
        server.post(
          '/passwordless/start',
          { client_id: c.client.client_id, ...(withSecret ? { client_secret: c.secret } : {}), connection: 'email', email: uniqueEmail(), send: 'code' },
          { 'auth0-forwarded-for': ip },
        );
      // The loopback IP is exhausted by the previous test; distinct end-user IPs each get their own budget.
      for (let i = 0; i < LIMIT; i++) assert.equal((await call(trusted, '203.0.113.7')).status, 200);
      assert.equal((await call(trusted, '203.0.113.7')).status, 429);
      assert.equal((await call(trusted, '203.0.113.8')).status, 200);
      // Not trusted, or not authenticated: the header is ignored and the socket IP (exhausted) counts.
      assert.equal((await call(untrusted, '198.51.100.1')).status, 429);
      assert.equal((await call(trusted, '198.51.100.2', false)).status, 429);
    });
  });
}
