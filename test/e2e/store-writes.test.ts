import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import type { User } from '../../src/core/model.ts';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { sharedDatabase, testCode, testLog } from '../helpers/store-fixtures.ts';

const user = (id: string, email: string): User => {
  const now = new Date().toISOString();
  return { user_id: id, connection: 'email', email, user_metadata: {}, app_metadata: {}, created_at: now, updated_at: now, logins_count: 0 };
};

/** Group commit (src/store/sql/executor.ts) and the single-statement login record. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`store writes [${backend}]`, { skip }, () => {
    let db: Awaited<ReturnType<typeof sharedDatabase>>;
    let store: Store;
    before(async () => {
      db = await sharedDatabase(backend);
      store = await db.open();
    });
    after(async () => db?.drop());

    it('concurrent user lookups by email each get their own user or none (PostgreSQL answers the lookups of a turn with one batched query)', async () => {
      const other = (id: string, email: string): User => ({ ...user(id, email), connection: 'email-b' });
      await store.createUserIfAbsent(user('email|rb1', 'rb1@x.test'));
      await store.createUserIfAbsent(user('email|rb2', 'rb2@x.test'));
      await store.createUserIfAbsent(other('email|rb3', 'rb1@x.test'));
      const asked: [string, string][] = [['email', 'rb1@x.test'], ['email', 'nobody@x.test'], ['email-b', 'rb1@x.test'], ['email', 'rb2@x.test'], ['email-b', 'rb2@x.test'], ['email', 'rb1@x.test']];
      const got = await Promise.all(asked.map(([c, e]) => store.findUserByEmail(c, e)));
      assert.deepEqual(got.map((u) => u?.user_id), ['email|rb1', undefined, 'email|rb3', 'email|rb2', undefined, 'email|rb1']);
      assert.equal(got[0]?.email, 'rb1@x.test');
    });

    it('concurrent rate-limit hits count as if one after another: 1…n per key in call order, a new window starts over', async () => {
      const window = 60_000;
      const start = Math.floor(Date.now() / window) * window;
      const keys = ['rl:a', 'rl:b', 'rl:a', 'rl:a', 'rl:b', 'rl:c'];
      const counts = await Promise.all(keys.map((k) => store.hitRateLimit(k, start, window)));
      assert.deepEqual(counts, [1, 1, 2, 3, 2, 1]);
      assert.deepEqual(await Promise.all(['rl:a', 'rl:a'].map((k) => store.hitRateLimit(k, start, window))), [4, 5]);
      // The next window: counting starts again, for hits of one turn too.
      assert.deepEqual(await Promise.all(['rl:a', 'rl:b', 'rl:a'].map((k) => store.hitRateLimit(k, start + window, window))), [1, 1, 2]);
      // Many at once on one key: every count from 1 to n exactly once.
      const many = await Promise.all(Array.from({ length: 200 }, () => store.hitRateLimit('rl:burst', start, window)));
      assert.deepEqual([...many].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 1));
    });

    it('persists every one of many concurrent issueCode calls, with their messages and logs', async () => {
      const n = 300;
      const before = await store.countOutbox('pending');
      const logs = Array.from({ length: n }, () => testLog('cs'));
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.issueCode(testCode(`gc${i}@x.test`), { channel: 'email', recipient: `gc${i}@x.test`, payload: '{}', meta: {} }, [logs[i]!]),
        ),
      );
      assert.equal((await store.countOutbox('pending')) - before, n);
      for (const i of [0, 149, 299]) {
        const got = await store.takeAttempt({ connection_id: 'con_1', identifier: `gc${i}@x.test`, client_id: 'c1' }, 3);
        assert.equal(got.kind, 'attempt');
        assert.ok(await store.getLog(logs[i]!.log_id));
      }
    });

    it('commits concurrent issueCode calls together, one statement for every table\'s rows (PostgreSQL group commit)', { skip: backend !== 'postgres' && 'PostgreSQL executor' }, async () => {
      // The store runs in this process: count what its pg clients send while 200 starts are issued.
      const sent: string[] = [];
      const query = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
        sent.push(typeof config === 'string' ? config : (config as { text: string }).text);
        return (query as (...a: unknown[]) => unknown).call(this, config, ...rest);
      } as typeof query;
      try {
        const n = 200;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.issueCode(testCode(`mr${i}@x.test`), { channel: 'email', recipient: `mr${i}@x.test`, payload: '{}', meta: {} }, [testLog('cs')]),
          ),
        );
        // Data-modifying CTEs: one atomic statement per batch, no BEGIN and COMMIT.
        const batches = sent.filter((t) => /^with "t0" as \(insert into otp_codes .*"t1" as \(insert into outbox .*"t2" as \(insert into logs /s.test(t)).length;
        assert.ok(batches >= 1 && batches <= 10, `${batches} statements for ${n} concurrent starts`);
        assert.deepEqual(sent.filter((t) => t === 'BEGIN' || t.startsWith('insert into')), [], 'no transaction, no INSERT of its own');
        for (let i = 0; i < n; i += 37) assert.equal((await store.takeAttempt({ connection_id: 'con_1', identifier: `mr${i}@x.test`, client_id: 'c1' }, 3)).kind, 'attempt');
      } finally {
        pg.Client.prototype.query = query;
      }
    });

    it('keeps the last of two codes issued at once for one identifier', async () => {
      const key = { connection_id: 'con_1', identifier: 'twice@x.test', client_id: 'c1' };
      await Promise.all([
        store.issueCode({ ...testCode('twice@x.test'), code_hash: 'first' }, null, []),
        store.issueCode({ ...testCode('twice@x.test'), code_hash: 'second' }, null, []),
      ]);
      assert.equal(await store.consumeCode(key, 'first'), false);
      assert.equal(await store.consumeCode(key, 'second'), true);
    });

    it('gives concurrent guesses at codes their attempt slots one by one, and each code to one consumer (PostgreSQL batches a turn\'s guesses)', async () => {
      const key = (id: string) => ({ connection_id: 'con_1', identifier: id, client_id: 'c1' });
      await Promise.all(['ta1@x.test', 'ta2@x.test', 'ta3@x.test'].map((id) => store.issueCode(testCode(id), null, [])));
      // One turn: five guesses at ta1, one at ta2, one at a code that does not exist, params intact.
      const asked = ['ta1@x.test', 'ta1@x.test', 'ta2@x.test', 'ta1@x.test', 'none@x.test', 'ta1@x.test', 'ta1@x.test'];
      const slots = await Promise.all(asked.map((id) => store.takeAttempt(key(id), 3)));
      assert.deepEqual(slots.map((s) => s.kind), ['attempt', 'attempt', 'attempt', 'attempt', 'missing', 'exhausted', 'exhausted']);
      // In call order: the n-th guess at a code saw the n-th slot.
      assert.deepEqual(slots.map((s) => (s.kind === 'attempt' ? Number(s.record.attempts) : null)), [1, 2, 1, 3, null, null, null]);
      const first = slots[0]!;
      assert.ok(first.kind === 'attempt' && first.record.code_hash === 'h-ta1@x.test' && first.record.params.scope === 'openid');
      // Consumptions in one turn: a wrong hash consumes nothing, and of three right ones exactly one wins.
      const consumed = await Promise.all([
        store.consumeCode(key('ta3@x.test'), 'wrong'), store.consumeCode(key('ta3@x.test'), 'h-ta3@x.test'),
        store.consumeCode(key('ta2@x.test'), 'h-ta2@x.test'), store.consumeCode(key('ta3@x.test'), 'h-ta3@x.test'),
        store.consumeCode(key('ta3@x.test'), 'h-ta3@x.test'),
      ]);
      assert.equal(consumed[0], false);
      assert.equal(consumed[2], true);
      assert.deepEqual([consumed[1], consumed[3], consumed[4]].filter(Boolean).length, 1);
      assert.equal((await store.takeAttempt(key('ta3@x.test'), 3)).kind, 'missing');
    });

    it('fails only the faulty op of a batch', async () => {
      const dup = testLog('cs');
      await store.appendLogs([dup]);
      const fresh = Array.from({ length: 20 }, () => testLog('cs'));
      const results = await Promise.allSettled([
        ...fresh.slice(0, 10).map((l, i) => store.issueCode(testCode(`ok${i}@x.test`), null, [l])),
        // Same log_id as a stored log: the primary key refuses this op's whole transaction.
        store.issueCode(testCode('bad@x.test'), null, [dup]),
        ...fresh.slice(10).map((l) => store.appendLogs([l])),
        store.hitRateLimit('k', 0, 1000),
      ]);
      assert.deepEqual(results.map((r) => r.status), [...Array(10).fill('fulfilled'), 'rejected', ...Array(10).fill('fulfilled'), 'fulfilled']);
      for (const l of fresh) assert.ok(await store.getLog(l.log_id), 'a neighbour of the faulty op was lost');
      // The faulty op is atomic: its code was not stored either.
      assert.equal((await store.takeAttempt({ connection_id: 'con_1', identifier: 'bad@x.test', client_id: 'c1' }, 3)).kind, 'missing');
      assert.equal(await store.hitRateLimit('k', 0, 1000), 2);
    });

    it('counts logins in the login columns and keeps them over the document', async () => {
      const { user: u } = await store.createUserIfAbsent(user('email|l1', 'l1@x.test'));
      await store.recordLogin(u.user_id, '2030-01-01T00:00:00.000Z', '10.0.0.1');
      await store.recordLogin(u.user_id, '2030-01-01T00:00:01.000Z', '10.0.0.2');
      await store.updateUser({ ...u, name: 'Renamed' }); // a stale document must not reset the counters
      const got = await store.getUser(u.user_id);
      assert.equal(got?.logins_count, 2);
      assert.equal(got?.name, 'Renamed');
      assert.equal(got?.last_login, '2030-01-01T00:00:01.000Z');
      assert.equal(got?.updated_at, '2030-01-01T00:00:01.000Z');
      assert.equal(got?.last_ip, '10.0.0.2');
      // Two logins of one user in one turn (PostgreSQL batches a turn's logins): both count, the later one is last.
      await Promise.all([store.recordLogin(u.user_id, '2030-01-01T00:00:02.000Z', '10.0.0.3'), store.recordLogin(u.user_id, '2030-01-01T00:00:03.000Z', '10.0.0.4')]);
      const twice = await store.getUser(u.user_id);
      assert.deepEqual([twice?.logins_count, twice?.last_login, twice?.last_ip], [4, '2030-01-01T00:00:03.000Z', '10.0.0.4']);
      await store.recordLogin(u.user_id, '2030-01-01T00:00:01.000Z', '10.0.0.2');
      const again = await store.createUserIfAbsent(user('email|l1-other', 'l1@x.test'));
      assert.equal(again.created, false);
      assert.equal(again.user.user_id, 'email|l1');
      assert.equal(again.user.logins_count, 5);
    });

    it('writes a new user\'s first-login logs with the user, and only if it was created', async () => {
      const first = [testLog('ss', { user_id: 'email|fl' }), testLog('s', { user_id: 'email|fl' })];
      const made = await store.createUserIfAbsent({ ...user('email|fl', 'fl@x.test'), logins_count: 1, last_login: '2030-02-01T00:00:00.000Z' }, first);
      assert.equal(made.created, true);
      for (const l of first) assert.ok(await store.getLog(l.log_id));
      assert.equal((await store.getUser('email|fl'))?.logins_count, 1);
      const lost = [testLog('ss', { user_id: 'email|fl2' })];
      const again = await store.createUserIfAbsent(user('email|fl2', 'fl@x.test'), lost);
      assert.equal(again.created, false);
      assert.equal(again.user.user_id, 'email|fl');
      assert.equal(await store.getLog(lost[0]!.log_id), undefined);
    });

    it('creates the new users of one turn with their own logs, and reads the one that existed', async () => {
      await store.createUserIfAbsent(user('email|t0', 't0@x.test'));
      const emails = ['t1@x.test', 't0@x.test', 't2@x.test', 't3@x.test'];
      const logs = emails.map((_, i) => [testLog('ss', { user_id: `email|t${i}-new` }), testLog('s', { user_id: `email|t${i}-new` })]);
      const made = await Promise.all(emails.map((e, i) => store.createUserIfAbsent({ ...user(`email|t${i}-new`, e), logins_count: 1 }, logs[i])));
      assert.deepEqual(made.map((m) => [m.created, m.user.user_id]), [[true, 'email|t0-new'], [false, 'email|t0'], [true, 'email|t2-new'], [true, 'email|t3-new']]);
      const stored = await Promise.all(logs.flat().map((l) => store.getLog(l.log_id)));
      assert.deepEqual(stored.map((l) => l?.type), ['ss', 's', undefined, undefined, 'ss', 's', 'ss', 's']);
      assert.equal((await store.getUser('email|t2-new'))?.logins_count, 1);
      assert.equal(await store.getUser('email|t1-new'), undefined);
    });

    it('creates a user once when ten first sign-ins race, with only the winner\'s logs', async () => {
      const logs = Array.from({ length: 10 }, () => [testLog('ss', { user_id: 'email|race' })]);
      const made = await Promise.all(logs.map((l, i) => store.createUserIfAbsent(user(i ? `email|race${i}` : 'email|race', 'race@x.test'), l)));
      const winners = made.flatMap((m, i) => (m.created ? [i] : []));
      assert.equal(winners.length, 1);
      assert.ok(made.every((m) => m.user.user_id === made[winners[0]!]!.user.user_id));
      const stored = await Promise.all(logs.map((l) => store.getLog(l[0]!.log_id)));
      assert.deepEqual(stored.map((x) => x !== undefined), logs.map((_, i) => i === winners[0]));
    });

    it('records logins while another connection keeps committing (no SQLITE_BUSY)', { skip: backend !== 'sqlite' && 'SQLite locking only' }, async () => {
      const file = db.url.slice('sqlite:'.length);
      const { user: u } = await store.createUserIfAbsent(user('email|busy', 'busy@x.test'));
      // Like the mail thread: a second connection on its own thread, committing small writes non-stop.
      const writer = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const db = new (require('better-sqlite3'))(workerData.file);
         db.pragma('busy_timeout = 5000');
         const up = db.prepare("insert into rate_limits (key, window_start, count, expires_at) values ('w', 0, 1, 0) on conflict(key) do update set count = count + 1");
         let stop = false;
         parentPort.on('message', () => { stop = true; });
         parentPort.postMessage('ready');
         const spin = () => { for (let i = 0; i < 50; i++) up.run(); if (!stop) setImmediate(spin); else { db.close(); parentPort.close(); } };
         spin();`,
        { eval: true, workerData: { file } },
      );
      await new Promise((r) => writer.once('message', r));
      const n = 400;
      try {
        for (let round = 0; round < n / 20; round++) {
          await Promise.all(Array.from({ length: 20 }, (_, i) => store.recordLogin(u.user_id, new Date(Date.UTC(2031, 0, 1, 0, 0, round * 20 + i)).toISOString(), '10.1.1.1')));
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        writer.postMessage('stop');
        await new Promise((r) => writer.once('exit', r));
      }
      assert.equal((await store.getUser(u.user_id))?.logins_count, n);
    });

    it('marks a delivered batch sent in one call', async () => {
      for (let i = 0; i < 3; i++) await store.enqueue({ channel: 'email', recipient: `m${i}@x.test`, payload: '{}', meta: {} });
      const claimed = await store.claimOutbox(Date.now() + 1000, 1000, 60_000);
      const sentBefore = await store.countOutbox('sent');
      await store.markSentMany(claimed.map((m) => m.id));
      await store.markSentMany([]);
      assert.equal((await store.countOutbox('sent')) - sentBefore, claimed.length);
      assert.equal(await store.countOutbox('pending'), 0);
    });
  });
}
