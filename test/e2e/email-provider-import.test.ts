import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiSecretContext } from '../../src/mail/providers/catalog.ts';
import type { EmailProvider } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { cli } from '../helpers/cli.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

const SENDGRID_KEY = 'SG.sendgrid-key-never-exported-0456';

/**
 * Issue 14: a tenant exported from Auth0 that names an API email provider imports with `sesame
 * import`. Auth0's GET hides the key as Sesame's does, so the import names what is missing and
 * `--set` supplies it; the key is sealed and never exported. The target starts with an SMTP
 * provider: a provider of another name keeps nothing of it.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`import of an Auth0 email provider [${backend}]`, { skip }, () => {
    let server: TestServer;
    let env: Record<string, string>;
    let dir: string;
    let f: typeof fetch;
    const conn = () => ['--domain', new URL(server.issuer).host, '--client-id', MGMT.client_id, '--client-secret', MGMT.client_secret];
    const provider = async () => {
      const token = (await (await f(`${server.baseUrl}/oauth/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${server.issuer}api/v2/` }),
      })).json()) as { access_token: string };
      return (await (await f(`${server.baseUrl}/api/v2/emails/provider`, { headers: { authorization: `Bearer ${token.access_token}` } })).json()) as Record<string, unknown>;
    };

    before(async () => {
      const cert = await makeTestCert();
      f = trustedFetch(cert.ca);
      server = await bootServer({ backend, env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath } });
      env = { NODE_EXTRA_CA_CERTS: cert.certPath };
      dir = mkdtempSync(join(tmpdir(), 'sesame-email-import-'));
      await server.services.store.putSetting('email_provider', { name: 'smtp', enabled: true, credentials: { smtp_host: 'smtp.example.com', smtp_port: 587 } });
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('names the missing api_key, takes it from --set, seals it and never exports it', async () => {
      // As Auth0's GET /api/v2/emails/provider answers for SendGrid.
      const doc = { emailProvider: { name: 'sendgrid', enabled: true, default_from_address: 'Acme <no-reply@acme.example>', credentials: {}, settings: {} } };
      const file = join(dir, 'auth0-sendgrid.json');
      writeFileSync(file, JSON.stringify(doc));
      const without = await cli(['import', file, ...conn(), '--yes'], env);
      assert.notEqual(without.code, 0, 'a sendgrid provider without its key is refused');
      assert.match(without.stderr, /warning: emailProvider: credentials\.api_key is not in .*auth0-sendgrid\.json; a new sendgrid provider cannot be created without it/);
      assert.match(without.stderr, /Missing required property: credentials\.api_key/);
      assert.equal((await provider()).name, 'smtp', 'nothing changed');

      const run = await cli(['import', file, ...conn(), '--yes', '--set', `emailProvider.credentials.api_key=${SENDGRID_KEY}`], env);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!run.stdout.includes(SENDGRID_KEY) && !run.stderr.includes(SENDGRID_KEY));
      assert.deepEqual(await provider(), doc.emailProvider);
      const stored = await server.services.store.getSetting<EmailProvider>('email_provider');
      assert.equal(server.services.keyring.open(apiSecretContext('sendgrid', 'api_key'), stored!.secrets_enc!.api_key!), SENDGRID_KEY);

      const out = await cli(['export', ...conn(), '--format', 'json'], env);
      assert.equal(out.code, 0, out.stderr);
      assert.ok(!out.stdout.includes(SENDGRID_KEY));
      assert.deepEqual(JSON.parse(out.stdout).emailProvider, doc.emailProvider);
      assert.match(out.stderr, /emailProvider: credentials\.api_key is left out; .*--set 'emailProvider\.credentials\.api_key=<value>'/);
    });
  });
}
