import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { backendMatrix } from '../helpers/backends.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';

/**
 * Issue 13 (sizing): each Sesame process holds at most 11 PostgreSQL connections for requests (10
 * for queries, 1 LISTENing) and 7 for its mail thread (6 + 1), told apart in pg_stat_activity by
 * `application_name`. The mail thread is pushed to its busiest: every send fails, so each of its
 * eight lanes records a failure while the heartbeat and the next claim go on.
 */
const pgMatrix = (await backendMatrix()).filter((b) => b.backend === 'postgres');
for (const { backend, skip } of pgMatrix) {
  describe('PostgreSQL connections per process [postgres]', { skip }, () => {
    const ctx = useMailServer(backend, { env: { SESAME_IDENTIFIER_STARTS_PER_HOUR: '0' } });

    it('uses at most 11 connections for requests and 7 for the mail thread, named apart, under a burst of failing sends', async () => {
      const database = new URL(ctx.server.services.config.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: ctx.server.services.config.databaseUrl });
      await admin.connect();
      const peak = new Map<string, number>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { rows } = await admin.query<{ name: string; n: number }>(
            'select application_name as name, count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() group by 1', [database],
          );
          for (const { name, n } of rows) peak.set(name, Math.max(peak.get(name) ?? 0, n));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      try {
        ctx.sink.failNext(1_000);
        const n = 300;
        const answers = await Promise.all(Array.from({ length: n }, () =>
          ctx.server.post('/passwordless/start', { ...ctx.server.defaultApp, connection: 'email', email: uniqueEmail('conn'), send: 'code' }).then((r) => r.status)));
        assert.deepEqual([...new Set(answers)], [200]);
        const end = Date.now() + 20_000;
        while (ctx.sink.rejected < n) {
          assert.ok(Date.now() < end, `every send tried and refused within 20 s (${ctx.sink.rejected} of ${n})`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        sampling = false;
        await sampler;
        await admin.end();
        ctx.sink.failNext(0);
      }
      const seen = Object.fromEntries(peak);
      assert.ok((peak.get('sesame mail') ?? 0) >= 2, `the mail thread's pool is named (${JSON.stringify(seen)})`);
      assert.ok(peak.get('sesame mail')! <= 7, `mail thread: at most 6 + 1 connections (${JSON.stringify(seen)})`);
      assert.ok((peak.get('sesame') ?? 0) >= 2 && peak.get('sesame')! <= 11, `requests: at most 10 + 1 connections (${JSON.stringify(seen)})`);
      assert.deepEqual(Object.keys(seen).filter((k) => k !== 'sesame' && k !== 'sesame mail'), [], 'no unnamed connection');
    });
  });
}
