import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { sharedDatabase } from '../helpers/store-fixtures.ts';

/** The artifact operations browser sign-in relies on: atomic consumption, reuse detection, attempt budgets. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`store artifacts [${backend}]`, { skip }, () => {
    let db: Awaited<ReturnType<typeof sharedDatabase>>;
    let a: Store;
    let b: Store;
    let n = 0;
    const id = () => `id-${++n}`;
    before(async () => {
      db = await sharedDatabase(backend);
      a = await db.open();
      b = await db.open(); // a second instance: consumption must be atomic across processes too
    });
    after(async () => db?.drop());

    it('hands a consumed artifact to exactly one of many concurrent callers, across two stores', async () => {
      const now = Date.now();
      const key = id();
      await a.putArtifact({ kind: 'auth_code', id: key, doc: { v: 1 }, expires_at: now + 60_000 });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).consumeArtifact<{ v: number }>('auth_code', key, now)));
      assert.equal(results.filter((r) => r.status === 'ok').length, 1);
      assert.equal(results.filter((r) => r.status === 'reused').length, 39);
      const ok = results.find((r) => r.status === 'ok');
      assert.deepEqual(ok?.status === 'ok' && ok.artifact.doc, { v: 1 });
    });

    it('allows re-consumption only within the leeway, then reports reuse', async () => {
      const t0 = Date.now();
      const key = id();
      await a.putArtifact({ kind: 'refresh_token', id: key, family: 'fam-1', doc: {}, expires_at: t0 + 60_000 });
      assert.equal((await a.consumeArtifact('refresh_token', key, t0, 5_000)).status, 'ok');
      assert.equal((await a.consumeArtifact('refresh_token', key, t0 + 4_000, 5_000)).status, 'ok');
      assert.equal((await a.consumeArtifact('refresh_token', key, t0 + 6_000, 5_000)).status, 'reused');
      assert.equal((await a.consumeArtifact('refresh_token', key, t0 + 1, 0)).status, 'reused');
    });

    it('treats expired and unknown artifacts as missing, and purges expired ones', async () => {
      const now = Date.now();
      const key = id();
      await a.putArtifact({ kind: 'login_ticket', id: key, doc: {}, expires_at: now + 1_000 });
      assert.equal((await a.consumeArtifact('login_ticket', key, now + 1_000)).status, 'missing');
      assert.equal(await a.getArtifact('login_ticket', key, now + 1_000), undefined);
      assert.ok(await a.getArtifact('login_ticket', key, now));
      assert.equal((await a.consumeArtifact('login_ticket', 'nope', now)).status, 'missing');
      assert.ok((await a.purgeArtifacts(now + 2_000)) >= 1);
      assert.equal(await a.getArtifact('login_ticket', key, now), undefined);
    });

    it('counts at most `max` attempts however many race, and none on a consumed artifact', async () => {
      const now = Date.now();
      const key = id();
      await a.putArtifact({ kind: 'relay', id: key, doc: { r: 1 }, expires_at: now + 60_000 });
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).takeArtifactAttempt('relay', key, 3, now)));
      assert.equal(got.filter(Boolean).length, 3);
      assert.equal((await a.getArtifact('relay', key, now))?.attempts, 3);

      const other = id();
      await a.putArtifact({ kind: 'relay', id: other, doc: {}, expires_at: now + 60_000 });
      await a.consumeArtifact('relay', other, now);
      assert.equal(await a.takeArtifactAttempt('relay', other, 3, now), undefined);
    });

    it('updates live documents only, and deletes by family', async () => {
      const now = Date.now();
      const tx = id();
      await a.putArtifact({ kind: 'transaction', id: tx, doc: { step: 1 }, expires_at: now + 60_000 });
      assert.equal(await a.updateArtifact('transaction', tx, { step: 2 }, now), true);
      assert.deepEqual((await b.getArtifact('transaction', tx, now))?.doc, { step: 2 });
      assert.equal(await a.updateArtifact('transaction', tx, { step: 3 }, now + 60_000), false);

      const fam = `fam-${id()}`;
      for (let i = 0; i < 3; i++) await a.putArtifact({ kind: 'refresh_token', id: `${fam}-${i}`, family: fam, doc: {}, expires_at: now + 60_000 });
      assert.equal(await a.deleteArtifactFamily(fam), 3);
      assert.equal(await a.getArtifact('refresh_token', `${fam}-0`, now), undefined);
      assert.equal(await a.deleteArtifact('transaction', tx), true);
      assert.equal(await a.deleteArtifact('transaction', tx), false);
    });
  });
}
