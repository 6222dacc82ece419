import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { backendMatrix } from '../helpers/backends.ts';
import { cli } from '../helpers/cli.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';
import { openSmsSecrets } from '../../src/sms/secrets.ts';

const SMTP_PASS = 'smtp-password-never-exported';
const API = 'https://orders.example.com/';
const TWILIO_TOKEN = 'twilio-token-never-exported-0123';


/**
 * Issue 4 §3 end to end over HTTPS with two servers (a source and a fresh target): export A in JSON
 * and YAML, dry run, import into B, export B gives the same document, re-import changes nothing,
 * --prune deletes what the file does not list.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`sesame export / import [${backend}]`, { skip }, () => {
    let a: TestServer;
    let b: TestServer;
    let f: typeof fetch;
    let env: Record<string, string>;
    let dir: string;
    const conn = (s: TestServer) => ['--domain', new URL(s.issuer).host, '--client-id', MGMT.client_id, '--client-secret', MGMT.client_secret];
    /** srv.mgmtToken() uses the global fetch, which does not trust the test CA: ask over `f`. */
    const token = async (s: TestServer) => {
      const res = await f(`${s.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${s.issuer}api/v2/` }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const api = async (s: TestServer, method: string, path: string, body?: unknown) => {
      const res = await f(`${s.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${await token(s)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const exported = async (s: TestServer) => {
      const run = await cli(['export', ...conn(s), '--format', 'json'], env);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout);
    };

    before(async () => {
      const cert = await makeTestCert();
      f = trustedFetch(cert.ca);
      const tls = { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath };
      a = await bootServer({ backend, env: tls });
      b = await bootServer({ backend, env: tls });
      env = { NODE_EXTRA_CA_CERTS: cert.certPath };
      dir = mkdtempSync(join(tmpdir(), 'sesame-tenant-io-'));

      const shop = await api(a, 'POST', '/clients', {
        name: 'Storefront', app_type: 'regular_web', callbacks: ['https://shop.example.com/callback'], client_metadata: { team: 'web' },
      });
      const worker = await api(a, 'POST', '/clients', { name: 'Billing Worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
      await api(a, 'PATCH', '/tenants/settings', { friendly_name: 'Acme Shop', support_email: 'help@example.com' });
      await api(a, 'POST', '/resource-servers', { identifier: API, name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read orders' }], token_lifetime: 600 });
      await api(a, 'POST', '/client-grants', { client_id: worker.client_id, audience: API, scope: ['read:orders'] });
      const [email] = (await api(a, 'GET', '/connections')) as any[];
      await api(a, 'PATCH', `/connections/${email.id}`, {
        options: { ...email.options, totp: { time_step: 300, length: 8 } },
        enabled_clients: [...email.enabled_clients, shop.client_id],
      });
      await api(a, 'POST', '/connections', {
        name: 'sms', strategy: 'sms', enabled_clients: [shop.client_id],
        options: { provider: 'twilio', twilio_sid: 'AC0123456789', twilio_token: TWILIO_TOKEN, from: '+15005550006', fraud_guards: { allowed_countries: ['FR'] } },
      });
      await api(a, 'POST', '/emails/provider', {
        name: 'smtp', default_from_address: 'Acme <no-reply@example.com>',
        credentials: { smtp_host: 'smtp.example.com', smtp_port: 587, smtp_user: 'mailer', smtp_pass: SMTP_PASS },
      });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('exports A in JSON and YAML: the same document, without ids, secrets or the Management API', async () => {
      const file = join(dir, 'a.json');
      const json = await cli(['export', ...conn(a), '--output', file], env);
      assert.equal(json.code, 0, json.stderr);
      assert.equal(json.stdout, '');
      const text = readFileSync(file, 'utf8');
      const yaml = await cli(['export', ...conn(a)], env);
      assert.equal(yaml.code, 0, yaml.stderr);
      assert.throws(() => JSON.parse(yaml.stdout), 'stdout defaults to YAML');
      const doc = JSON.parse(text);
      assert.deepEqual(parseYaml(yaml.stdout), doc);

      assert.deepEqual(Object.keys(doc).sort(), ['clientGrants', 'clients', 'connections', 'emailProvider', 'resourceServers', 'tenant']);
      assert.deepEqual(doc.clients.map((c: any) => c.name), ['Billing Worker', 'Default App', 'Storefront']);
      for (const c of doc.clients) assert.ok(!('client_id' in c) && !('client_secret' in c) && !('created_at' in c));
      assert.deepEqual(doc.clients.find((c: any) => c.name === 'Storefront').client_metadata, { team: 'web' });
      assert.deepEqual(doc.resourceServers.map((r: any) => r.identifier), [API], 'no system API');
      assert.equal(doc.resourceServers[0].token_lifetime, 600);
      assert.deepEqual(doc.clientGrants, [{ client_id: 'Billing Worker', audience: API, scope: ['read:orders'] }]);
      assert.equal(doc.connections[0].name, 'email');
      assert.ok(doc.connections[0].enabled_clients.includes('Storefront'));
      assert.deepEqual(doc.connections[0].options.totp, { time_step: 300, length: 8 });
      assert.equal(doc.tenant.friendly_name, 'Acme Shop');
      assert.deepEqual(doc.emailProvider.credentials, { smtp_host: 'smtp.example.com', smtp_port: 587, smtp_user: 'mailer' });
      assert.ok(!text.includes(SMTP_PASS) && !text.includes('Sesame Management Client') && !text.includes(MGMT.client_id));
      assert.ok(!text.includes(`${a.issuer}api/v2/`));
      // Every secret left out is named on stderr, with the --set that supplies it (issue 11).
      assert.ok(!text.includes(TWILIO_TOKEN));
      const named = json.stderr.split('\n').filter((l) => l.includes('is left out'));
      assert.deepEqual(named, [
        "client Billing Worker: client_secret is left out; a new secret is generated when the client is created, and printed once. Supply it at import with --set 'clients.Billing Worker.client_secret=<value>'",
        "client Default App: client_secret is left out; a new secret is generated when the client is created, and printed once. Supply it at import with --set 'clients.Default App.client_secret=<value>'",
        "client Storefront: client_secret is left out; a new secret is generated when the client is created, and printed once. Supply it at import with --set 'clients.Storefront.client_secret=<value>'",
        'connection sms: options.twilio_token is left out; it cannot send texts ("Twilio is not configured"). Supply it at import with --set \'connections.sms.options.twilio_token=<value>\'',
        "emailProvider: credentials.smtp_pass is left out; SMTP servers that require a login refuse the mail. Supply it at import with --set 'emailProvider.credentials.smtp_pass=<value>'",
      ]);
    });

    it('--dry-run into a fresh B lists the changes and changes nothing; without a terminal or --yes it refuses', async () => {
      const before = await exported(b);
      const file = join(dir, 'a.yaml');
      writeFileSync(file, (await cli(['export', ...conn(a)], env)).stdout);
      const dry = await cli(['import', file, ...conn(b), '--dry-run'], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(dry.stdout.trim().split('\n').sort(), [
        'create client Billing Worker',
        'create client Storefront',
        `create clientGrant Billing Worker ${API}`,
        'create connection sms',
        'create emailProvider',
        `create resourceServer ${API}`,
        'update connection email',
        'update tenant',
      ]);
      const refused = await cli(['import', file, ...conn(b)], env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--yes/);
      assert.deepEqual(await exported(b), before);
    });

    it('import → export B gives the same document; new clients get a secret printed once; re-import is a no-op', async () => {
      const file = join(dir, 'a.json');
      const run = await cli(['import', file, ...conn(b), '--yes', '--set', `emailProvider.credentials.smtp_pass=${SMTP_PASS}`], env);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!run.stdout.includes(SMTP_PASS) && !run.stderr.includes(SMTP_PASS));
      // The SMS connection is created without its token: the import says it cannot send, and how to fix it.
      assert.deepEqual(run.stderr.split('\n').filter((l) => l.startsWith('warning:')), [
        `warning: connection sms: options.twilio_token is not in ${file}; it cannot send texts ("Twilio is not configured"). Supply it at import with --set 'connections.sms.options.twilio_token=<value>'`,
      ]);
      const secret = /client Billing Worker: client_id (\S+), new client_secret (\S+)/.exec(run.stdout);
      assert.ok(secret, run.stdout);
      assert.deepEqual(await exported(b), JSON.parse(readFileSync(file, 'utf8')));

      // The imported grant and secret work: client_credentials for the imported API.
      const tok = await f(`${b.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: secret[1], client_secret: secret[2], audience: API }),
      });
      assert.equal(tok.status, 200, await tok.clone().text());
      assert.equal(((await tok.json()) as { expires_in: number }).expires_in, 600);

      const again = await cli(['import', file, ...conn(b), '--yes'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, '', 'no change lines');
      assert.match(again.stderr, /nothing to change/);
    });

    it('SMS provider secrets are never exported; --set supplies them at import, and an import without them keeps the target’s', async () => {
      const plain = await exported(a);
      const withSecrets = await cli(['export', ...conn(a), '--format', 'json', '--include-secrets'], env);
      assert.equal(withSecrets.code, 0, withSecrets.stderr);
      assert.ok(!withSecrets.stdout.includes(TWILIO_TOKEN), 'the server never returns it');
      assert.match(withSecrets.stderr, /connection sms: options\.twilio_token is left out/);

      const [bSms] = (await api(b, 'GET', '/connections?name=sms')) as any[];
      const token = async () => openSmsSecrets(b.services.keyring, (await b.services.store.getConnection(bSms.id))!.options, bSms.id).twilio_token;
      const file = join(dir, 'sms.json');
      const changed = { ...plain, connections: (plain.connections as any[]).map((c) => (c.name === 'sms' ? { ...c, options: { ...c.options, template: 'Code @@password@@' } } : c)) };
      writeFileSync(file, JSON.stringify(changed));
      const set = await cli(['import', file, ...conn(b), '--yes', '--set', 'connections.sms.options.twilio_token=token-set-on-b'], env);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /update connection sms/);
      assert.ok(!set.stdout.includes('token-set-on-b') && !set.stderr.includes('token-set-on-b'));
      assert.equal(await token(), 'token-set-on-b', '--set reached the connection by its name');

      // A later import of a changed template (PATCH replaces options whole) must not wipe it.
      writeFileSync(file, JSON.stringify({ ...changed, connections: (changed.connections as any[]).map((c) => (c.name === 'sms' ? { ...c, options: { ...c.options, template: 'Code: @@password@@' } } : c)) }));
      const run = await cli(['import', file, ...conn(b), '--yes'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /update connection sms/);
      assert.doesNotMatch(run.stderr, /warning:/, 'an existing connection keeps its token');
      const now = await api(b, 'GET', `/connections/${bSms.id}`);
      assert.equal(now.options.template, 'Code: @@password@@');
      assert.equal(await token(), 'token-set-on-b');
      // Back to A's options for the tests that follow (an import only adds and changes keys).
      const { template: _t, ...restored } = now.options;
      await api(b, 'PATCH', `/connections/${bSms.id}`, { options: restored });
    });

    it('--prune deletes an extra client in B, never the Management API client', async () => {
      await api(b, 'POST', '/clients', { name: 'Leftover', app_type: 'spa' });
      const file = join(dir, 'a.json');
      const plain = await cli(['import', file, ...conn(b), '--dry-run'], env);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, '', 'nothing is deleted without --prune');
      const dry = await cli(['import', file, ...conn(b), '--prune', '--dry-run'], env);
      assert.equal(dry.stdout, 'delete client Leftover\n');
      const run = await cli(['import', file, ...conn(b), '--prune', '--yes'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'delete client Leftover\n');
      assert.deepEqual(await exported(b), JSON.parse(readFileSync(file, 'utf8')));
      assert.ok((await api(b, 'GET', '/clients')).some((c: any) => c.client_id === MGMT.client_id));
    });

    it("a document with Auth0's read-only fields and settings Sesame lacks imports cleanly, naming what it leaves out", async () => {
      // Objects as Auth0's Management API answers them (an Auth0 tenant exported by another tool).
      const RS = 'https://auth0-api.example.com/';
      const doc = {
        tenant: {
          friendly_name: 'Acme on Auth0', sandbox_version: '18', sandbox_versions_available: ['18', '16'], session_lifetime: 168,
          change_password: { enabled: false, html: '' }, error_page: { html: '', show_log_link: false, url: '' },
          flags: { enable_sso: true, new_universal_login_experience_enabled: true },
        },
        clients: [{
          tenant: 'acme-prod', global: false, name: 'Auth0 Shop', client_id: 'Xr2k9J3mQp0sN4bV7cY1zL8wE5tH6gD2', app_type: 'regular_web',
          owners: ['mr|samlp|okta|will@acme.example'], callback_url_template: false, is_first_party: true, oidc_conformant: true,
          signing_keys: [{ cert: '-----BEGIN CERTIFICATE-----\nMIID…\n-----END CERTIFICATE-----\n', subject: 'deprecated' }],
          jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000, secret_encoded: false },
          callbacks: ['https://shop.acme.example/callback'], allowed_clients: null, logo_uri: 'https://shop.acme.example/logo.png',
          sso_disabled: false, cross_origin_auth: false, native_social_login: { apple: { enabled: false } }, organization_usage: 'deny',
          grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post', client_metadata: {},
        }],
        resourceServers: [{
          id: '5f1e2d3c4b5a69788796a5b4', name: 'Auth0 API', identifier: RS, is_system: false, client_id: 'Yq1', token_lifetime: 86400,
          token_lifetime_for_web: 7200, signing_alg: 'RS256', scopes: [], skip_consent_for_verifiable_first_party_clients: true,
          enforce_policies: false, token_dialect: 'access_token',
        }],
      };
      const file = join(dir, 'auth0.json');
      writeFileSync(file, JSON.stringify(doc));
      const run = await cli(['import', file, ...conn(b), '--yes'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.split('\n').filter((l) => !l.startsWith('  ')).sort(), ['', 'create client Auth0 Shop', `create resourceServer ${RS}`, 'update tenant']);
      const skipped = run.stderr.split('\n').filter((l) => l.startsWith('skip '));
      assert.deepEqual(skipped, [
        'skip tenant: sandbox_version, session_lifetime (not supported by the target)',
        'skip client Auth0 Shop: allowed_clients, logo_uri, sso_disabled, native_social_login, organization_usage (not supported by the target)',
        `skip resourceServer ${RS}: token_lifetime_for_web (not supported by the target)`, // enforce_policies and token_dialect are (issue 10 §1)
      ]);
      const client = (await api(b, 'GET', '/clients')).find((c: any) => c.name === 'Auth0 Shop');
      assert.ok(client, 'the client was created');
      assert.notEqual(client.client_id, doc.clients[0]!.client_id, 'a tenant assigns its own ids');
      assert.deepEqual(client.callbacks, ['https://shop.acme.example/callback']);
      assert.equal(client.cross_origin_authentication, false);
      assert.deepEqual(client.jwt_configuration, { alg: 'RS256', lifetime_in_seconds: 36000 });
      const settings = await api(b, 'GET', '/tenants/settings');
      assert.equal(settings.friendly_name, 'Acme on Auth0');
      assert.equal(settings.flags.enable_sso, true);
      assert.equal(settings.flags.new_universal_login_experience_enabled, undefined, 'an internal Auth0 flag is not written');

      const again = await cli(['import', file, ...conn(b), '--yes'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, '', 'no change lines: the import is idempotent');
      assert.match(again.stderr, /nothing to change/);
    });

    it('prints a new secret for a confidential client only: a public application has none', async () => {
      const file = join(dir, 'public.json');
      writeFileSync(file, JSON.stringify({
        clients: [
          { name: 'Pocket SPA', app_type: 'spa', token_endpoint_auth_method: 'none', callbacks: ['https://pocket.example.com/'] },
          { name: 'Pocket Worker', app_type: 'non_interactive', grant_types: ['client_credentials'] },
        ],
      }));
      const run = await cli(['import', file, ...conn(b), '--yes'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /create client Pocket SPA/);
      assert.doesNotMatch(run.stdout, /client Pocket SPA: .*client_secret/);
      assert.match(run.stdout, /client Pocket Worker: client_id \S+, new client_secret \S+/);
      for (const c of (await api(b, 'GET', '/clients')) as any[]) if (c.name.startsWith('Pocket ')) await api(b, 'DELETE', `/clients/${c.client_id}`);
    });

    it('a bad file or flag exits 2 with a clear message', async () => {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'clients:\n  - app_type: spa\n');
      const run = await cli(['import', bad, ...conn(b), '--dry-run'], env);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /clients\[0\]\.name must be a non-empty string/);
      const fmt = await cli(['export', ...conn(b), '--format', 'xml'], env);
      assert.equal(fmt.code, 2);
      assert.match(fmt.stderr, /--format must be json or yaml/);
    });
  });
}
