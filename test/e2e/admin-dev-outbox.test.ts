import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';

/** Issue 12: the development outbox lists what development mode "sent", codes and links included. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`GET /api/v2/sesame/dev-outbox [${backend}]`, { skip }, () => {
    let dev: TestServer;
    let prod: TestServer;
    before(async () => {
      dev = await bootServer({ backend });
      // An SMTP URL turns development mode off (nothing needs to answer on it for this test).
      prod = await bootServer({ backend, env: { SESAME_SMTP_URL: 'smtp://127.0.0.1:9', SESAME_MAIL_MAX_ATTEMPTS: '1' } });
    });
    after(async () => {
      await dev?.close();
      await prod?.close();
    });

    async function waitForMessage(srv: TestServer, to: string) {
      for (let i = 0; i < 100; i++) {
        const list = await mgmt(srv, 'GET', '/sesame/dev-outbox?per_page=50');
        const m = list.find((x: any) => x.to === to);
        if (m) return m;
        await sleep(100);
      }
      throw new Error(`no message to ${to}`);
    }

    it('keeps every message the console "sent", newest first, with its code that signs the user in', async () => {
      const email = uniqueEmail('dev');
      const { client_id, client_secret } = dev.defaultApp;
      assert.equal((await dev.post('/passwordless/start', { client_id, client_secret, connection: 'email', email, send: 'code' })).status, 200);
      const m = await waitForMessage(dev, email);
      assert.equal(m.codes.length, 1, JSON.stringify(m));
      assert.match(m.codes[0], /^\d{6}$/);
      assert.match(m.subject, /code|verification/i);
      assert.ok(m.text.includes(m.codes[0]));
      assert.equal(typeof m.html, 'string');
      const tok = await dev.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, client_id, client_secret, realm: 'email', username: email, otp: m.codes[0], scope: 'openid' });
      assert.equal(tok.status, 200, 'the listed code is the real one');

      const linkTo = uniqueEmail('link');
      await dev.post('/passwordless/start', { client_id, client_secret, connection: 'email', email: linkTo, send: 'link' });
      const l = await waitForMessage(dev, linkTo);
      assert.equal(l.links.filter((u: string) => u.includes('/passwordless/verify_redirect?')).length, 1, JSON.stringify(l.links));
      assert.deepEqual(l.codes, []);
      const page = await mgmt(dev, 'GET', '/sesame/dev-outbox?include_totals=true&per_page=1');
      assert.equal(page.messages.length, 1);
      assert.equal(page.messages[0].to, linkTo, 'newest first');
      assert.ok(page.total >= 2);
    });

    it('outside development mode there is no outbox (404) and sent messages are not kept', async () => {
      const res = await mgmtCall(prod, 'GET', '/sesame/dev-outbox');
      assert.equal(res.status, 404);
      assert.deepEqual(res.json, { statusCode: 404, error: 'Not Found', message: 'The development outbox exists only in development mode (no SMTP provider is set)', errorCode: 'not_in_development_mode' });
      const config = (await (await fetch(`${prod.baseUrl}/admin/config.json`)).json()) as { devMode: boolean };
      assert.equal(config.devMode, false);
    });

    it('needs read:logs; paging is validated', async () => {
      assert.equal((await fetch(`${dev.baseUrl}/api/v2/sesame/dev-outbox`)).status, 401);
      assert.equal((await mgmtCall(dev, 'GET', '/sesame/dev-outbox?per_page=1000')).status, 400);
    });
  });
}
