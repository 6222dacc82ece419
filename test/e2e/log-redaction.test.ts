import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';

/**
 * "Secrets and codes never in logs" (issue 11, tests that guard): an unhandled error logs the request
 * that caused it, to find the cause, and the logger's redaction must censor its Authorization
 * header, cookies, query string and body. The app's own log lines are captured here.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`log redaction [${backend}]`, { skip }, () => {
    let srv: TestServer;
    const lines: string[] = [];
    before(async () => {
      const logStream = new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString('utf8'));
          cb();
        },
      });
      srv = await bootServer({ backend, env: { SESAME_LOG_LEVEL: 'info' }, logStream });
    });
    after(() => srv?.close());

    it('an unhandled error logs the request with its credentials, cookies, query and body censored', async () => {
      const secret = 'Bearer-secret-5f2b9c1d7e';
      const cookie = 'sesame_session=cookie-secret-8a7b6c5d';
      const code = '918273';
      const querySecret = 'query-secret-1a2b3c';
      // A store that breaks under the request (a bug, not a database outage): the one 500 path.
      const store = srv.services.store;
      const real = store.getClient.bind(store);
      store.getClient = async () => {
        throw new Error('store exploded');
      };
      try {
        const res = await fetch(`${srv.baseUrl}/oauth/token?extra=${querySecret}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`cid:${secret}`).toString('base64')}`, cookie },
          body: JSON.stringify({ grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp', client_id: 'cid', realm: 'email', username: 'a@b.co', otp: code }),
        });
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { error: 'server_error', error_description: 'Internal Server Error' });
      } finally {
        store.getClient = real;
      }
      const line = lines.find((l) => l.includes('unhandled error'));
      assert.ok(line, `no unhandled-error line in:\n${lines.join('')}`);
      const logged = JSON.parse(line) as { err: { message: string }; request: Record<string, any> };
      assert.equal(logged.err.message, 'store exploded');
      assert.equal(logged.request.method, 'POST');
      assert.equal(logged.request.url, '/oauth/token');
      assert.equal(logged.request.headers['content-type'], 'application/json', 'the rest of the request is there to help');
      assert.equal(logged.request.headers.authorization, '[redacted]');
      assert.equal(logged.request.headers.cookie, '[redacted]');
      assert.equal(logged.request.body, '[redacted]');
      assert.equal(logged.request.query, '[redacted]');
      const all = lines.join('');
      for (const s of [Buffer.from(`cid:${secret}`).toString('base64'), 'cookie-secret-8a7b6c5d', code, querySecret]) assert.ok(!all.includes(s), `${s} reached the log`);
    });
  });
}
