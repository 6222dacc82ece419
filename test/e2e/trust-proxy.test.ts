import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { BLOCKED_BODY, THRESHOLD, postFrom } from '../helpers/brute-force.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';

const LIMIT = 2;
/** 127.0.0.2 plays the load balancer; 127.0.0.1 is a client reaching Sesame directly. */
const PROXY = '127.0.0.2';
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };

/**
 * Issue 10 §2: SESAME_TRUST_PROXY. X-Forwarded-For/-Proto/-Host name the client only when the peer
 * is a trusted proxy; then every per-IP limit (IPv6 by /64) and brute-force pair counts the real
 * client. A spoofed header from any other peer changes nothing.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`SESAME_TRUST_PROXY [${backend}]`, { skip }, () => {
    let server: TestServer;
    let plain: TestServer;
    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: String(LIMIT), SESAME_TRUST_PROXY: `${PROXY}/32` } });
      plain = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: String(LIMIT) } });
    });
    after(async () => {
      await server?.close();
      await plain?.close();
    });

    const start = (srv: TestServer, from: string, headers: Record<string, string> = {}) =>
      postFrom(srv, from, '/passwordless/start', { ...srv.defaultApp, connection: 'email', email: uniqueEmail('tp'), send: 'code' }, { headers });
    const exchange = (srv: TestServer, from: string, email: string, headers: Record<string, string>, app: { client_id: string; client_secret: string } = srv.defaultApp) =>
      postFrom(srv, from, '/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...app, username: email, otp: '000000', realm: 'email' }, { headers });
    const lastLog = async (srv: TestServer, type: string) => (await srv.services.store.logsAfter(null, 100_000)).filter((l) => l.type === type).at(-1)!;

    it('off by default: X-Forwarded-* from anyone is ignored, the socket IP is limited and logged', async () => {
      for (let i = 0; i < LIMIT; i++) assert.equal((await start(plain, PROXY, { 'x-forwarded-for': `203.0.113.${i + 1}` })).status, 200);
      const cs = await lastLog(plain, 'cs');
      assert.equal(cs.ip, PROXY);
      assert.equal(cs.hostname, '127.0.0.1');
      assert.equal((await start(plain, PROXY, { 'x-forwarded-for': '203.0.113.99', 'x-forwarded-host': 'auth.example.com' })).status, 429);
    });

    it('from a trusted proxy each forwarded client has its own start budget; the log names the client and its host', async () => {
      const fwd = (ip: string) => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' });
      for (let i = 0; i < LIMIT; i++) assert.equal((await start(server, PROXY, fwd('203.0.113.7'))).status, 200);
      const cs = await lastLog(server, 'cs');
      assert.deepEqual({ ip: cs.ip, hostname: cs.hostname }, { ip: '203.0.113.7', hostname: 'auth.example.com' });
      assert.equal((await start(server, PROXY, fwd('203.0.113.7'))).status, 429);
      assert.equal((await start(server, PROXY, fwd('203.0.113.8'))).status, 200);
      // The proxy's own address is not spent by its clients.
      assert.equal((await start(server, PROXY)).status, 200);
      // Several hops: the address the trusted proxy saw (the last untrusted one) is the client.
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '198.51.100.50, 203.0.113.7' })).status, 429);
    });

    it('a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
      for (let i = 0; i < LIMIT; i++) assert.equal((await start(server, '127.0.0.1', { 'x-forwarded-for': `192.0.2.${i + 1}` })).status, 200);
      assert.equal((await lastLog(server, 'cs')).ip, '127.0.0.1');
      assert.equal((await start(server, '127.0.0.1', { 'x-forwarded-for': '192.0.2.200' })).status, 429);
    });

    it('IPv6 clients are limited by /64; IPv4-mapped IPv6 counts as the IPv4 address', async () => {
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '2001:db8:1:2::a' })).status, 200);
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '2001:db8:1:2:ffff:ffff:ffff:ffff' })).status, 200);
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '2001:0db8:0001:0002::1234' })).status, 429, 'same /64');
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '2001:db8:1:3::a' })).status, 200, 'next /64');
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '198.51.100.4' })).status, 200);
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '::ffff:198.51.100.4' })).status, 200);
      assert.equal((await start(server, PROXY, { 'x-forwarded-for': '198.51.100.4' })).status, 429);
    });

    it('brute-force pairs count the forwarded client: an attacker behind the proxy does not block the real user', async () => {
      const email = uniqueEmail('tp-bf');
      for (let i = 0; i < THRESHOLD; i++) {
        const res = await exchange(server, PROXY, email, { 'x-forwarded-for': '2001:db8:bad::1' });
        assert.deepEqual({ status: res.status, body: res.json() }, { status: 403, body: WRONG });
      }
      // Another address of the attacker's /64 is the same pair.
      const again = await exchange(server, PROXY, email, { 'x-forwarded-for': '2001:db8:bad:0:1::1' });
      assert.deepEqual({ status: again.status, body: again.json() }, { status: 429, body: BLOCKED_BODY });
      const user = await exchange(server, PROXY, email, { 'x-forwarded-for': '203.0.113.20' });
      assert.deepEqual({ status: user.status, body: user.json() }, { status: 403, body: WRONG });
      const blocks = await server.services.store.listLoginBlocks({ identifiers: [email] }, Date.now());
      assert.deepEqual(blocks.map((b) => b.ip), ['2001:0db8:0bad:0000::/64']);
    });

    it('/oauth/token honours auth0-forwarded-for for an authenticated, trusting confidential client, as start does', async () => {
      const trusted = await createClient(server, { app_type: 'regular_web', is_token_endpoint_ip_header_trusted: true });
      const untrusted = await createClient(server, { app_type: 'regular_web', is_token_endpoint_ip_header_trusted: false });
      const app = (c: typeof trusted) => ({ client_id: c.client.client_id, client_secret: c.secret });
      const email = uniqueEmail('tp-relay');
      // A backend relays an attacker's guesses and a real user's, from its one address.
      for (let i = 0; i < THRESHOLD; i++) assert.equal((await exchange(server, '127.0.0.1', email, { 'auth0-forwarded-for': '198.51.100.66' }, app(trusted))).status, 403);
      const attacker = await exchange(server, '127.0.0.1', email, { 'auth0-forwarded-for': '198.51.100.66' }, app(trusted));
      assert.deepEqual({ status: attacker.status, body: attacker.json() }, { status: 429, body: BLOCKED_BODY });
      assert.equal((await lastLog(server, 'limit_wc')).ip, '198.51.100.66');
      const user = await exchange(server, '127.0.0.1', email, { 'auth0-forwarded-for': '198.51.100.67' }, app(trusted));
      assert.deepEqual({ status: user.status, body: user.json() }, { status: 403, body: WRONG });
      assert.equal((await lastLog(server, 'fepotpft')).ip, '198.51.100.67');
      // A client that does not trust the header: its calls count against the backend's own address.
      const other = uniqueEmail('tp-relay-untrusted');
      for (let i = 0; i < THRESHOLD; i++) {
        await exchange(server, '127.0.0.3', other, { 'auth0-forwarded-for': `198.51.100.${100 + i}` }, app(untrusted));
      }
      const blocked = await exchange(server, '127.0.0.3', other, { 'auth0-forwarded-for': '198.51.100.1' }, app(untrusted));
      assert.deepEqual({ status: blocked.status, body: blocked.json() }, { status: 429, body: BLOCKED_BODY });
    });
  });
}
