import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeLog } from '../../src/core/logs.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { loginSession } from '../helpers/code-flow.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/** Issue 12: email preview and test message, and a user's logs, for the dashboard's pages. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`email preview, test email, user logs [${backend}]`, { skip }, () => {
    let srv: TestServer;
    before(async () => {
      srv = await bootServer({ backend });
    });
    after(() => srv?.close());

    it('POST /sesame/preview-email renders the connection template, or unsaved fields, with sample values', async () => {
      const def = await mgmt(srv, 'POST', '/sesame/preview-email', { connection: 'email' });
      assert.match(def.html, /012345/);
      assert.match(def.text, /012345/);
      assert.equal(typeof def.subject, 'string');
      const link = await mgmt(srv, 'POST', '/sesame/preview-email', { connection: 'email', send: 'link' });
      assert.match(link.html, /passwordless\/verify_redirect/);

      const conn = (await mgmt(srv, 'GET', '/connections?name=email'))[0];
      await mgmt(srv, 'PATCH', `/connections/${conn.id}`, { options: { ...conn.options, totp: { time_step: 300, length: 8 } } });
      const custom = await mgmt(srv, 'POST', '/sesame/preview-email', {
        connection: 'email',
        email: { subject: 'Code for {{ application.name }}', body: '<p>{{ code }} ({{ expires_in_minutes }} min) {{ "<b>" }}</p>', syntax: 'liquid' },
        application: 'Shop',
      });
      assert.equal(custom.subject, 'Code for Shop');
      assert.equal(custom.html, '<p>01234567 (5 min) &lt;b&gt;</p>', 'escaped as real mails are; the connection\'s code length');

      const bad = await mgmtCall(srv, 'POST', '/sesame/preview-email', { connection: 'email', email: { body: '{% if %}' } });
      assert.equal(bad.status, 400);
      assert.match(bad.json.message, /^email\.body: /);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/preview-email', { connection: 'nope' })).status, 404);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/preview-email', { connection: 'email', extra: 1 })).status, 400);
    });

    it('POST /sesame/test-email sends the sample through the outbox (here: the development outbox)', async () => {
      const to = uniqueEmail('test');
      const res = await mgmtCall(srv, 'POST', '/sesame/test-email', { to });
      assert.equal(res.status, 202);
      assert.match(res.json.subject, /^\[Test\] /);
      let found;
      for (let i = 0; i < 100 && !found; i++) {
        found = (await mgmt(srv, 'GET', '/sesame/dev-outbox')).find((m: any) => m.to === to);
        if (!found) await sleep(100);
      }
      assert.ok(found, 'delivered by the worker');
      assert.equal(found.subject, res.json.subject);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/test-email', { to: 'not-an-email' })).status, 400);
      const sapi = (await srv.services.store.logsAfter(null, 100_000)).filter((l) => l.type === 'sapi' && l.description === 'Send a test email');
      assert.equal(sapi.length, 1);
    });

    it('GET /users/{id}/logs: the user\'s logs newest first, paged, with totals; 404 for an unknown user', async () => {
      const app = (await srv.services.store.getClient(srv.defaultApp.client_id))!.client;
      const { userId } = await loginSession(srv, app);
      const other = await loginSession(srv, app);
      const base = Date.now();
      await srv.services.store.appendLogs([1, 2, 3].map((i) => makeLog('s', null, { user_id: userId, description: `login ${i}` }, base + i * 1000)));
      const all = await mgmt(srv, 'GET', `/users/${encodeURIComponent(userId)}/logs`);
      assert.ok(all.every((l: any) => l.user_id === userId));
      assert.ok(!all.some((l: any) => l.user_id === other.userId));
      assert.deepEqual(all.slice(0, 3).map((l: any) => l.description), ['login 3', 'login 2', 'login 1']);
      const page = await mgmt(srv, 'GET', `/users/${encodeURIComponent(userId)}/logs?per_page=2&page=1&include_totals=true&sort=date:1`);
      assert.equal(page.total, all.length);
      assert.deepEqual([page.start, page.limit, page.length], [2, 2, page.logs.length]);
      assert.equal(page.logs[page.logs.length - 1].description, all.length === 4 ? 'login 2' : page.logs[page.logs.length - 1].description);
      assert.equal((await mgmtCall(srv, 'GET', '/users/email%7Cnobody/logs')).status, 404);
      assert.equal((await mgmtCall(srv, 'GET', `/users/${encodeURIComponent(userId)}/logs?sort=ip:1`)).status, 400);
    });
  });
}
