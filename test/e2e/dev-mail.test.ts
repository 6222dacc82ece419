import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { TransportResolver } from '../../src/mail/transport.ts';
import { backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { cli } from '../helpers/cli.ts';
import { captureLog } from '../helpers/mail-env.ts';

/** Issue 10 §5: development mail (codes and links printed to the log) only where it is meant. */
const PROD = 'https://auth.example.com/';

for (const { backend, skip } of await backendMatrix()) {
  describe(`development mail on a production-looking issuer [${backend}]`, { skip }, () => {
    const tryStart = async (env: Record<string, string>) => {
      const db = await freshDatabase(backend);
      try {
        const config = loadConfig({ SESAME_PORT: '0', SESAME_DATABASE_URL: db.url, SESAME_SECRET: 'dev-mail-secret-0123456789abcdefghijklmn', SESAME_LOG_LEVEL: 'silent', ...env });
        const { app } = await buildApp(config);
        await app.close();
        return 'started';
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      } finally {
        await db.drop();
      }
    };

    it('refuses to start without SMTP, and says that SESAME_DEV_MAIL=log is the way to mean it', async () => {
      const refused = await tryStart({ SESAME_ISSUER: PROD });
      assert.match(refused, /codes and magic links would be printed to the log/);
      assert.match(refused, /https:\/\/auth\.example\.com\/ looks like production/);
      assert.match(refused, /set SESAME_DEV_MAIL=log if printing mail to the log is intended/);
      assert.equal(await tryStart({ SESAME_ISSUER: PROD, SESAME_DEV_MAIL: 'log' }), 'started');
      assert.equal(await tryStart({ SESAME_ISSUER: PROD, SESAME_SMTP_URL: 'smtp://127.0.0.1:2525' }), 'started');
      for (const issuer of ['http://auth.example.com/', 'https://localhost:8443/', 'https://127.0.0.1/', 'https://sesame.localhost/']) {
        assert.equal(await tryStart({ SESAME_ISSUER: issuer }), 'started', issuer);
      }
    });

    it('a provider removed while running: mail fails and is retried, never printed', async () => {
      const db = await freshDatabase(backend);
      const config = loadConfig({ SESAME_PORT: '0', SESAME_DATABASE_URL: db.url, SESAME_SECRET: 'dev-mail-secret-0123456789abcdefghijklmn', SESAME_LOG_LEVEL: 'silent', SESAME_ISSUER: PROD, SESAME_DEV_MAIL: 'log' });
      const { app, services } = await buildApp(config);
      try {
        const { log, lines } = captureLog();
        const mail = { to: 'a@example.com', from: 'x@example.com', subject: 'Your code', html: '', text: 'code 123456' };
        const refused = new TransportResolver({ store: services.store, config: { ...config, devMail: undefined }, log });
        await assert.rejects((await refused.get()).send(mail), /SESAME_DEV_MAIL=log/);
        assert.ok(!lines.join('').includes('123456'), 'the code is not logged');
        const intended = new TransportResolver({ store: services.store, config, log });
        await (await intended.get()).send(mail);
        assert.ok(lines.join('').includes('123456'), 'with SESAME_DEV_MAIL=log it is, as asked');
      } finally {
        await app.close();
        await db.drop();
      }
    });
  });
}

describe('sesame start on a production-looking issuer without SMTP', () => {
  it('exits 1 with the reason instead of a stack trace', async () => {
    const r = await cli(['start'], { PATH: process.env.PATH ?? '', SESAME_PORT: '0', SESAME_DATABASE_URL: 'sqlite::memory:', SESAME_ISSUER: PROD });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /SESAME_DEV_MAIL=log/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
