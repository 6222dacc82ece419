import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';

type Json = Record<string, any>;

/**
 * Issue 4 §4: a user blocked through the Management API (`PATCH /users/{id} {blocked: true}`) is sent
 * nothing by /passwordless/start, which still answers 200 with the usual body (no outbox row; an `f`
 * log says why), and a code mailed before the block is refused at the exchange with
 * `401 {"error":"unauthorized","error_description":"user is blocked"}`.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`blocked users [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);
    const taken = new Set<SinkMessage>();

    const start = (email: string) => ctx.server.post('/passwordless/start', { ...ctx.server.defaultApp, connection: 'email', email, send: 'code' });
    async function startCode(email: string): Promise<string> {
      const res = await start(email);
      assert.equal(res.status, 200, await res.clone().text());
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m));
      taken.add(mail);
      return extractCode(mail);
    }
    const exchange = (email: string, otp: string) =>
      ctx.server.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...ctx.server.defaultApp, username: email, otp, realm: 'email' });
    async function signUp(email: string): Promise<string> {
      const res = await exchange(email, await startCode(email));
      assert.equal(res.status, 200, await res.clone().text());
      const user = await ctx.server.services.store.findUserByEmail('email', email);
      assert.ok(user);
      return user.user_id;
    }
    /**
     * Every outbox row ever queued, once the mail worker has settled: pending is read first, so no
     * row can move into `sent` between the reads and be counted twice.
     */
    async function outboxRows(): Promise<number> {
      const { store } = ctx.server.services;
      for (;;) {
        if ((await store.countOutbox('pending')) === 0) return (await store.countOutbox('sent')) + (await store.countOutbox('failed'));
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    it('start sends a blocked user nothing, answers 200 as usual and logs why; unblocking restores it', async () => {
      const email = uniqueEmail('blocked');
      const userId = await signUp(email);
      assert.equal((await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(userId)}`, { blocked: true })).blocked, true);

      // The answer a user who is not blocked gets, for comparison (its code is simply not used).
      const other = uniqueEmail('other');
      const usual = (await (await start(other)).json()) as Json;
      await ctx.sink.waitFor((m) => m.to === other);

      const rowsBefore = await outboxRows();
      const mailsBefore = ctx.sink.messages.length;
      for (const asSent of [email, email.toUpperCase()]) {
        const res = await start(asSent);
        assert.equal(res.status, 200);
        const body = (await res.json()) as Json;
        assert.deepEqual(Object.keys(body), Object.keys(usual));
        assert.deepEqual({ ...body, _id: 'x' }, { ...usual, _id: 'x', email: asSent });
        assert.match(body._id, /^[0-9a-f]{24}$/);
      }
      assert.equal(await outboxRows(), rowsBefore, 'no message was queued');
      const logs = (await ctx.server.services.store.logsAfter(null, 100_000)).filter((l) => l.user_id === userId && l.type === 'f');
      assert.equal(logs.length, 2);
      assert.equal(logs[0]!.description, 'user is blocked');
      assert.equal(logs[0]!.connection, 'email');
      assert.deepEqual([logs[0]!.user_name, (logs[0]!.details as Json).send], [email, 'code']);
      // Give a wrongly queued message time to arrive before concluding none was sent.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ctx.sink.messages.length, mailsBefore);

      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(userId)}`, { blocked: false });
      const res = await exchange(email, await startCode(email));
      assert.equal(res.status, 200, await res.clone().text());
    });

    it('a non-compliant start for a blocked user still leaves its depnote', async () => {
      const email = uniqueEmail('blocked-depnote');
      const userId = await signUp(email);
      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(userId)}`, { blocked: true });
      const before = (await ctx.server.services.store.logsAfter(null, 100_000)).filter((l) => l.type === 'depnote').length;
      // The Default App is confidential: without its secret the call is the migration's non-compliant kind.
      const res = await ctx.server.post('/passwordless/start', { client_id: ctx.server.defaultApp.client_id, connection: 'email', email, send: 'code' });
      assert.equal(res.status, 200, await res.clone().text());
      const after = (await ctx.server.services.store.logsAfter(null, 100_000)).filter((l) => l.type === 'depnote').length;
      assert.equal(after, before + 1);
    });

    it('a code mailed before the block is refused at the exchange with 401 user is blocked', async () => {
      const email = uniqueEmail('late-block');
      const userId = await signUp(email);
      const code = await startCode(email);
      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(userId)}`, { blocked: true });
      const res = await exchange(email, code);
      assert.deepEqual({ status: res.status, body: await res.json() }, { status: 401, body: { error: 'unauthorized', error_description: 'user is blocked' } });
    });

    it('blocking one user does not affect others, nor unknown emails (they are still sent a code)', async () => {
      const blocked = uniqueEmail('one');
      await mgmt(ctx.server, 'PATCH', `/users/${encodeURIComponent(await signUp(blocked))}`, { blocked: true });
      const rowsBefore = await outboxRows();
      const stranger = uniqueEmail('stranger');
      assert.match(await startCode(stranger), /^\d{6}$/);
      assert.equal(await outboxRows(), rowsBefore + 1);
    });
  });
}
