import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from '../../src/store/sql/kysely.ts';
import pg from 'pg';
import { openDatabase } from '../../src/store/sql/dialect.ts';
import { backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const INSTANCES = 3;
/** The advisory lock Kysely's PostgreSQL migrator takes (kysely/dist/esm/dialect/postgres/postgres-adapter.js). */
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

/**
 * Issue 13 §4 (upgrades): several instances started at the same moment on a new database, as an
 * orchestrator does. Migrations run once (Kysely's migrator holds an advisory lock on PostgreSQL),
 * and the first-start seeding happens once: one `email` connection, one Default App, one management
 * client, one current and one next signing key, and every instance up.
 *
 * SQLite is in the matrix but skipped, on purpose: a SQLite file belongs to one process (README,
 * "Running in production"). Two processes migrating one new file can meet SQLITE_BUSY, and nothing
 * serialises their seeding; several instances are what PostgreSQL is for.
 */
const ONE_PROCESS = 'several instances need PostgreSQL: a SQLite file belongs to one Sesame process';
for (const { backend, skip } of await backendMatrix()) {
  describe(`instances started at once on a new database [${backend}]`, { skip: backend === 'sqlite' ? ONE_PROCESS : skip }, () => {
    it(`${INSTANCES} instances: all up, the database migrated and seeded once`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sesame-concurrent-'));
      const db = backend === 'sqlite' ? { url: `sqlite:${join(dir, 'sesame.db')}`, drop: async () => {} } : await freshDatabase('postgres');
      const env = { SESAME_DATABASE_URL: db.url, SESAME_SECRET: 'concurrent-start-secret-0123456789abcdef', SESAME_LOG_FORMAT: 'json' };
      // Lined up at the start gate: the test holds the migrator's advisory lock (Kysely's LOCK_ID) until
      // every instance waits for it, so they reach the seeding milliseconds apart, not seconds (a
      // process start under load varies by seconds, which hid the race in most runs).
      const gate = new pg.Client({ connectionString: db.url });
      await gate.connect();
      await gate.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      const starting = Array.from({ length: INSTANCES }, () => startServerProcess(env, 120_000));
      for (const until = Date.now() + 90_000; Date.now() < until;) {
        const { rows } = await gate.query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted");
        if (rows[0]!.n >= INSTANCES) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await gate.end();
      const started = await Promise.allSettled(starting);
      const up = started.filter((r): r is PromiseFulfilledResult<ServerProcess> => r.status === 'fulfilled').map((r) => r.value);
      try {
        const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
        assert.deepEqual(failed, [], 'every instance starts');
        for (const p of up) assert.equal((await fetch(`${p.baseUrl}/health`)).status, 200);
        // Exactly one instance reports a first start (its generated management client and Default App).
        assert.equal(up.filter((p) => /Default App/.test(p.output())).length, 1, up.map((p) => p.output()).join('\n----\n'));
      } finally {
        for (const p of up) await p.stop();
      }
      const { db: k } = await openDatabase(db.url);
      try {
        const count = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(k)).rows[0]!.n);
        assert.equal(await count(sql`select count(*) as n from connections where name = 'email'`), 1);
        assert.equal(await count(sql`select count(*) as n from clients where name = 'Default App'`), 1);
        assert.equal(await count(sql`select count(*) as n from clients where name = 'Sesame Management Client'`), 1);
        assert.equal(await count(sql`select count(*) as n from signing_keys where status = 'current'`), 1);
        assert.equal(await count(sql`select count(*) as n from signing_keys where status = 'next'`), 1);
        assert.equal(await count(sql`select count(*) as n from sesame_migrations`), await count(sql`select count(distinct name) as n from sesame_migrations`));
      } finally {
        await k.destroy();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
