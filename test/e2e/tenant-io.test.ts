import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

type Run = { code: number; stdout: string; stderr: string };
const SMTP_PASS = 'smtp-password-never-exported';
const API = 'https://orders.example.com/';

/** The real CLI in its own process, trusting the test CA only through NODE_EXTRA_CA_CERTS. */
async function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SESAME_') && k !== 'NODE_EXTRA_CA_CERTS'));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

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
