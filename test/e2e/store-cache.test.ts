import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MAX_STALE_MS } from '../../src/store/sql/ref-cache.ts';
import { nextTurn, sharedDatabase, testClient, testConnection } from '../helpers/store-fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The reference-data cache (src/store/sql/ref-cache.ts) against writes from ANOTHER store instance
 * on the same database — another process or instance in production. SQLite (version polled): the
 * next read after the write's completion (one event-loop turn later) must see it. PostgreSQL
 * (version pushed by LISTEN/NOTIFY): it must see it within MAX_STALE_MS at the latest, and in
 * practice as soon as the notification arrives (measured below).
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`reference cache across store instances [${backend}]`, { skip }, () => {
    let db: Awaited<ReturnType<typeof sharedDatabase>>;
    let a: Store;
    let b: Store;
    before(async () => {
      db = await sharedDatabase(backend);
      a = await db.open();
      b = await db.open();
    });
    after(async () => db?.drop());

    /** Runs `check` after the write: at the next turn (SQLite), or until it passes within MAX_STALE_MS (PostgreSQL). */
    async function seen(check: () => Promise<void>): Promise<number> {
      const t0 = performance.now();
      await nextTurn();
      const until = t0 + (backend === 'postgres' ? MAX_STALE_MS + 250 : 0);
      for (;;) {
        try {
          await check();
          return performance.now() - t0;
        } catch (err) {
          if (performance.now() > until) throw err;
          await sleep(2);
        }
      }
    }

    it('sees a client, connection, enablement and setting written by the other instance', async () => {
      // Warm a's cache, including absent rows.
      assert.equal(await a.getClient('cli_x'), undefined);
      assert.equal(await a.getConnectionByName('mail'), undefined);
      assert.equal(await a.getSetting('tenant'), undefined);

      await b.insertClient(testClient('cli_x', 'First'), null);
      await b.insertConnection(testConnection('con_x', 'mail'));
      await b.putSetting('tenant', { friendly_name: 'T', flags: { enforce_client_authentication_on_passwordless_start: true } });
      await seen(async () => {
        assert.equal((await a.getClient('cli_x'))?.client.name, 'First');
        assert.equal((await a.getConnectionByName('mail'))?.id, 'con_x');
        assert.equal((await a.getConnection('con_x'))?.name, 'mail');
        assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), false);
        assert.equal((await a.getTenantSettings()).flags.enforce_client_authentication_on_passwordless_start, true);
      });

      await b.updateClient({ ...testClient('cli_x', 'Second') });
      await b.setEnabledClients('con_x', [{ client_id: 'cli_x', status: true }]);
      await b.putSetting('tenant', { friendly_name: 'T', flags: { enforce_client_authentication_on_passwordless_start: false } });
      await seen(async () => {
        assert.equal((await a.getClient('cli_x'))?.client.name, 'Second');
        assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), true);
        assert.equal((await a.getTenantSettings()).flags.enforce_client_authentication_on_passwordless_start, false);
      });

      assert.equal(await b.deleteClient('cli_x'), true);
      assert.equal(await b.deleteSetting('tenant'), true);
      await seen(async () => {
        assert.equal(await a.getClient('cli_x'), undefined);
        assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), false);
        assert.equal(await a.getSetting('tenant'), undefined);
      });
    });

    it('learns of another instance\'s change by notification, without a version query per request', { skip: backend !== 'postgres' && 'PostgreSQL LISTEN/NOTIFY' }, async (t) => {
      await a.insertClient(testClient('cli_n', 'Before'), null);
      await sleep(100); // b's listener is up (LISTEN at open) and its first version read is done
      assert.equal((await b.getClient('cli_n'))?.client.name, 'Before');
      // Every statement b's pool sends while it serves 50 requests, one per event-loop turn.
      const sent: string[] = [];
      const query = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
        sent.push(typeof config === 'string' ? config : (config as { text: string }).text);
        return (query as (...x: unknown[]) => unknown).call(this, config, ...rest);
      } as typeof query;
      try {
        for (let i = 0; i < 50; i++) {
          assert.equal((await b.getClient('cli_n'))?.client.name, 'Before');
          await nextTurn();
        }
      } finally {
        pg.Client.prototype.query = query;
      }
      assert.deepEqual(sent.filter((q) => q.includes('ref_version')), [], 'no version read per request while listening');
      // A change through a: in force at b long before the MAX_STALE_MS fallback would read the row.
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        await b.getClient('cli_n');
        const name = `After ${i}`;
        await a.updateClient(testClient('cli_n', name));
        const t0 = performance.now();
        while ((await b.getClient('cli_n'))?.client.name !== name) {
          if (performance.now() - t0 > MAX_STALE_MS / 4) assert.fail(`not notified within ${MAX_STALE_MS / 4} ms`);
          await sleep(1);
        }
        times.push(performance.now() - t0);
      }
      t.diagnostic(`change through one instance in force on the other after ${times.map((x) => x.toFixed(1)).join(', ')} ms`);
    });

    it('sees its own writes at once, and hands out frozen objects callers cannot corrupt', async () => {
      await a.insertClient(testClient('cli_own', 'Own'), 'hash');
      const first = await a.getClient('cli_own');
      assert.equal(first?.client.name, 'Own');
      assert.throws(() => {
        first!.client.name = 'mutated';
      }, TypeError);
      assert.throws(() => first!.client.grant_types.push('x'), TypeError);
      const again = await a.getClient('cli_own');
      assert.equal(again?.client.name, 'Own');
      assert.deepEqual(again?.client.grant_types, []);
      await a.updateClient({ ...testClient('cli_own', 'Renamed') });
      assert.equal((await a.getClient('cli_own'))?.client.name, 'Renamed');
      assert.equal((await a.getClient('cli_own'))?.secretHash, 'hash');
    });
  });
}
