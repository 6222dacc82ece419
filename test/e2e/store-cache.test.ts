import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { nextTurn, sharedDatabase, testClient, testConnection } from '../helpers/store-fixtures.ts';

/**
 * The reference-data cache (src/store/sql/ref-cache.ts) against writes from ANOTHER store instance
 * on the same database — another process or instance in production: the next read after the
 * write's completion (one event-loop turn later) must see it.
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

    it('sees a client, connection, enablement and setting written by the other instance', async () => {
      // Warm a's cache, including absent rows.
      assert.equal(await a.getClient('cli_x'), undefined);
      assert.equal(await a.getConnectionByName('mail'), undefined);
      assert.equal(await a.getSetting('tenant'), undefined);

      await b.insertClient(testClient('cli_x', 'First'), null);
      await b.insertConnection(testConnection('con_x', 'mail'));
      await b.putSetting('tenant', { friendly_name: 'T', flags: { enforce_client_authentication_on_passwordless_start: true } });
      await nextTurn();
      assert.equal((await a.getClient('cli_x'))?.client.name, 'First');
      assert.equal((await a.getConnectionByName('mail'))?.id, 'con_x');
      assert.equal((await a.getConnection('con_x'))?.name, 'mail');
      assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), false);
      assert.equal((await a.getTenantSettings()).flags.enforce_client_authentication_on_passwordless_start, true);

      await b.updateClient({ ...testClient('cli_x', 'Second') });
      await b.setEnabledClients('con_x', [{ client_id: 'cli_x', status: true }]);
      await b.putSetting('tenant', { friendly_name: 'T', flags: { enforce_client_authentication_on_passwordless_start: false } });
      await nextTurn();
      assert.equal((await a.getClient('cli_x'))?.client.name, 'Second');
      assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), true);
      assert.equal((await a.getTenantSettings()).flags.enforce_client_authentication_on_passwordless_start, false);

      assert.equal(await b.deleteClient('cli_x'), true);
      assert.equal(await b.deleteSetting('tenant'), true);
      await nextTurn();
      assert.equal(await a.getClient('cli_x'), undefined);
      assert.equal(await a.isConnectionEnabled('con_x', 'cli_x'), false);
      assert.equal(await a.getSetting('tenant'), undefined);
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
