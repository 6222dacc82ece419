import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Keyring } from '../../src/core/keyring.ts';
import { apiSecretContext } from '../../src/mail/providers/catalog.ts';
import { openStore } from '../../src/store/index.ts';
import type { EmailProvider } from '../../src/store/types.ts';
import { type Backend, backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { cli } from '../helpers/cli.ts';

const A = 'reseal-secret-A-0123456789abcdefghijklmnop';
const B = 'reseal-secret-B-0123456789abcdefghijklmnop';
const SECRET_KEY = 'ses-secret-access-key-under-A';

/** Issue 14 with issue 10 §3: `sesame secrets reseal` moves an API email provider's sealed keys to the new secret. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`sesame secrets reseal: email provider keys [${backend}]`, { skip }, () => {
    let dir: string;
    let db: { url: string; drop(): Promise<void> };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sesame-email-reseal-'));
      db = backend === 'sqlite' ? { url: `sqlite:${join(dir, 'sesame.db')}`, drop: async () => {} } : await freshDatabase(backend as Backend);
    });
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reseals secretAccessKey under B, counts it, and a second run has nothing left', async () => {
      const under = new Keyring(A);
      const { store } = await openStore(db.url);
      try {
        await store.putSetting('email_provider', {
          name: 'ses', enabled: true, credentials: { accessKeyId: 'AKIAEXAMPLE00000000', region: 'eu-west-1' },
          secrets_enc: { secretAccessKey: under.seal(apiSecretContext('ses', 'secretAccessKey'), SECRET_KEY) },
        } satisfies EmailProvider);
      } finally {
        await store.close();
      }
      const env = { SESAME_DATABASE_URL: db.url, SESAME_SECRET: B, SESAME_SECRET_PREVIOUS: A, SESAME_LOG_LEVEL: 'silent', PATH: process.env.PATH ?? '' };
      const r = await cli(['secrets', 'reseal'], env);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /email provider keys: 1 resealed/);
      assert.match((await cli(['secrets', 'reseal'], env)).stdout, /email provider keys: 0 resealed/);

      const reopened = await openStore(db.url);
      try {
        const p = (await reopened.store.getSetting<EmailProvider>('email_provider'))!;
        assert.equal(new Keyring(B).open(apiSecretContext('ses', 'secretAccessKey'), p.secrets_enc!.secretAccessKey!), SECRET_KEY, 'opens with B alone');
        assert.deepEqual(p.credentials, { accessKeyId: 'AKIAEXAMPLE00000000', region: 'eu-west-1' });
      } finally {
        await reopened.store.close();
      }
    });
  });
}
