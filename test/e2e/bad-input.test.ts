import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { loginSession } from '../helpers/code-flow.ts';
import { createClient } from '../helpers/fixtures.ts';

const CALLBACK = 'https://app.example.com/callback';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const NUL_TEXT = 'Strings must not contain NUL characters';
/** What a driver says; none of it may ever reach a response (issue 11). */
const DRIVER_TEXT = /invalid byte sequence|syntax error|SQLITE_|violates|duplicate key|relation "|DatabaseError/i;

/**
 * Issue 11, "Errors and bad input": U+0000 is refused at the boundary on every surface and in every
 * position (PostgreSQL text cannot hold it: a leak or a 500 there), each surface in its own envelope,
 * pages as HTML in the page's language; /authorize sends errors back to a verified callback.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`bad input [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let web: Client;
    let token: string;
    before(async () => {
      srv = await bootServer({ backend });
      web = (await createClient(srv, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code'] })).client;
      token = await srv.mgmtToken();
    });
    after(() => srv?.close());

    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${srv.baseUrl}${path}`, { redirect: 'manual', ...init });
      const text = await res.text();
      assert.doesNotMatch(text, DRIVER_TEXT, `${path}: ${text.slice(0, 200)}`);
      return { status: res.status, headers: res.headers, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text || 'null') : undefined };
    };

    it('NUL in a path parameter, a query string, a form and deep JSON: 400 in the OAuth envelope', async () => {
      const cases: [string, RequestInit?][] = [
        ['/client/%00.js'],
        ['/client/a%00b.js?t=1'],
        ['/userinfo?access_token=a%00'],
        ['/login/status?state=a%00b'],
        ['/login/phone/preview?state=abc&country=F%00R&phone_number=0612'],
        ['/oauth/revoke', { method: 'POST', headers: FORM, body: 'client_id=%00&token=x' }],
        ['/oauth/revoke', { method: 'POST', headers: FORM, body: 'client_id=abc&token=x%00' }],
        ['/oauth/token', { method: 'POST', headers: FORM, body: 'grant_type=client_credentials&client_id=a%00&client_secret=b' }],
        // Decoded past the HTTP layer: client_secret_basic credentials (found by the fuzz test).
        ['/oauth/revoke', { method: 'POST', headers: { ...FORM, authorization: `Basic ${Buffer.from('a\u0000:b').toString('base64')}` }, body: 'token=x' }],
        ['/oauth/token', { method: 'POST', headers: { ...FORM, authorization: `Basic ${Buffer.from('a:b%00').toString('base64')}` }, body: 'grant_type=client_credentials' }],
        ['/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'x', client_id: 'a', deep: [{ a: { b: ['\u0000'] } }] }) }],
        ['/passwordless/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: web.client_id, connection: 'email', email: 'a@b.co', send: 'code', 'k\u0000': 1 }) }],
        ['/co/authenticate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: web.client_id, credential_type: 'x', username: 'a\u0000' }) }],
      ];
      for (const [path, init] of cases) {
        const r = await call(path, init);
        assert.equal(r.status, 400, `${path} ${String(init?.body ?? '')} → ${r.status} ${r.text.slice(0, 200)}`);
        assert.equal(r.json?.error, 'invalid_request', path);
        assert.ok(String(r.json?.error_description).startsWith(NUL_TEXT), `${path}: ${r.text}`);
        assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description']);
      }
    });

    it('NUL in the Management API: 400 in Auth0 management shape, before any query', async () => {
      const auth = { authorization: `Bearer ${token}` };
      for (const [path, init] of [
        ['/api/v2/clients/a%00b', {}],
        ['/api/v2/users?q=a%00b', {}],
        ['/api/v2/unknown%00', {}],
        ['/api/v2/clients', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', client_metadata: { a: '\u0000' } }) }],
      ] as [string, RequestInit][]) {
        const r = await call(path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
        assert.equal(r.status, 400, `${path} → ${r.status} ${r.text}`);
        assert.equal(r.json.statusCode, 400);
        assert.equal(r.json.error, 'Bad Request');
        assert.match(r.json.message, /Strings must not contain NUL characters/);
      }
    });

    it('a body over the limit is answered 413 and, up to 1 MiB, read to its end so the answer is never lost to a reset', async () => {
      const port = new URL(srv.baseUrl).port;
      /** Raw HTTP/1.1 on one socket: the head, then the body in slices while the answer may already come back. */
      const exchange = (socket: Socket, length: number, sent: number) =>
        new Promise<string>((resolve, reject) => {
          let got = '';
          const onData = (d: Buffer) => {
            got += d.toString('latin1');
            const end = got.indexOf('\r\n\r\n');
            const len = /content-length: (\d+)/i.exec(got)?.[1];
            if (end >= 0 && len !== undefined && got.length >= end + 4 + Number(len)) {
              socket.off('data', onData);
              resolve(got);
            }
          };
          socket.on('data', onData);
          socket.once('error', reject);
          socket.write(`POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
          void (async () => {
            for (let off = 0; off < sent && !socket.destroyed; off += 8192) {
              socket.write('a'.repeat(Math.min(8192, sent - off)));
              await new Promise((r) => setTimeout(r, 2));
            }
          })();
        });
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      try {
        const first = await exchange(socket, 70_000, 70_000);
        assert.match(first, /^HTTP\/1\.1 413 /);
        assert.doesNotMatch(first, /connection: close/i, 'a 70 KB body is read and dropped, the connection kept');
        // The same connection answers the next request: the refused body was read to its end.
        const second = await exchange(socket, 2, 2);
        assert.match(second, /^HTTP\/1\.1 [34]\d\d /);
      } finally {
        socket.destroy();
      }
      // Past 1 MiB the rest is not read: the answer says the connection closes.
      const big = connect(Number(port), '127.0.0.1');
      await once(big, 'connect');
      try {
        assert.match(await exchange(big, 2 * 1024 * 1024, 16_384), /connection: close/i);
      } finally {
        big.destroy();
      }
    });

    it('headers over the limit are answered 431 and the connection closed cleanly, never reset while the client still sends', async () => {
      const socket = connect(Number(new URL(srv.baseUrl).port), '127.0.0.1');
      await once(socket, 'connect');
      let got = '';
      let reset = false;
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('error', (e: NodeJS.ErrnoException) => (reset = e.code === 'ECONNRESET' || e.code === 'EPIPE'));
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // 40 KB of headers (Node's limit is 16 KB), sent in slices: the refusal comes while they still arrive.
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      for (let i = 0; i < 40 && !socket.destroyed; i++) {
        socket.write(`x-filler-${i}: ${'a'.repeat(1000)}\r\n`);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (!socket.destroyed) socket.end('\r\n');
      await ended;
      assert.match(got, /^HTTP\/1\.1 431 /);
      assert.match(got, /connection: close/i);
      assert.equal(reset, false, 'the client never saw a reset');
    });

    it('/oauth/revoke answers errors in the RFC 7009 envelope, like /oauth/token', async () => {
      for (const init of [
        { method: 'POST', headers: FORM, body: 'token=x' },
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":' },
        { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<x/>' },
        { method: 'POST', headers: FORM, body: `client_id=${'x'.repeat(70_000)}&token=x` },
        { method: 'POST', headers: FORM, body: 'client_id=unknown&token=x' },
      ]) {
        const r = await call('/oauth/revoke', init);
        assert.ok(r.status >= 400 && r.status < 500, `${init.body.slice(0, 40)} → ${r.status}`);
        assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description'], r.text);
        assert.equal(r.headers.get('cache-control'), 'no-store');
      }
    });

    it('pages answer NUL and over-large forms with an HTML page in the page\'s language, never JSON', async () => {
      const big = `state=x&email=${'a'.repeat(70_000)}`;
      const cases: [string, RequestInit, number][] = [
        ['/login?state=a%00b', {}, 400],
        ['/login/code?state=a%00', {}, 400],
        ['/login/email', { method: 'POST', headers: FORM, body: 'state=x&email=a%00' }, 400],
        ['/login/email', { method: 'POST', headers: FORM, body: big }, 413],
        ['/login/relay', { method: 'POST', headers: FORM, body: big }, 413],
        ['/passwordless/verify_redirect?client_id=a%00&connection=email', {}, 400],
        ['/passwordless/verify_redirect', { method: 'POST', headers: FORM, body: 'client_id=%00' }, 400],
        ['/passwordless/verify_redirect', { method: 'POST', headers: FORM, body: big }, 413],
        ['/v2/logout?returnTo=%00', {}, 400],
        ['/authorize?client_id=a%00b&response_type=code', {}, 400],
        [`/authorize?client_id=${web.client_id}&redirect_uri=${encodeURIComponent(CALLBACK)}%00`, {}, 400],
      ];
      for (const [path, init, status] of cases) {
        for (const [lang, word] of [['fr-FR,fr;q=0.9', 'Requête refusée'], ['en', 'Request refused']]) {
          const r = await call(path, { ...init, headers: { ...(init.headers as Record<string, string>), 'accept-language': lang } });
          assert.equal(r.status, status, `${path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
          assert.match(r.headers.get('content-type') ?? '', /^text\/html/, path);
          assert.ok(r.text.includes(word), `${path.slice(0, 80)} [${lang}]: ${r.text.slice(0, 400)}`);
          assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
        }
      }
    });

    it('/authorize with a valid client and redirect_uri sends a NUL error to the callback (RFC 6749 §4.1.2.1)', async () => {
      const q = new URLSearchParams({ client_id: web.client_id, redirect_uri: CALLBACK, response_type: 'code', state: 'st-1', scope: 'openid\u0000' });
      const r = await call(`/authorize?${q}`);
      assert.equal(r.status, 302, r.text);
      const loc = new URL(r.headers.get('location')!);
      assert.equal(`${loc.origin}${loc.pathname}`, CALLBACK);
      assert.equal(loc.searchParams.get('error'), 'invalid_request');
      assert.equal(loc.searchParams.get('state'), 'st-1');
      assert.match(loc.searchParams.get('error_description') ?? '', /NUL/);
    });

    it('the form_post response page has the hosted pages\' CSP (nonce, no inline handler) and cannot be framed', async () => {
      const session = await loginSession(srv, web);
      const q = new URLSearchParams({ client_id: web.client_id, redirect_uri: CALLBACK, response_type: 'code', response_mode: 'form_post', state: 'fp' });
      const r = await call(`/authorize?${q}`, { headers: { cookie: `sesame_session=${session.token}` } });
      assert.equal(r.status, 200, r.text);
      const csp = r.headers.get('content-security-policy') ?? '';
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /form-action \*/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.ok(r.text.includes(`<script nonce="${nonce}">`), r.text);
      assert.doesNotMatch(r.text, /\son[a-z]+=/i, 'no inline event handler');
      assert.match(r.text, /name="code"/);
    });
  });
}
