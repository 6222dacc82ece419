import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt } from '../helpers/management.ts';
import { type TestCert, makeTestCert, trustedFetch } from '../helpers/tls.ts';

const A0DEPLOY = join('node_modules', 'auth0-deploy-cli', 'lib', 'index.js');
const TWILIO_TOKEN = 'twilio-auth-token-for-deploy-cli';
const PROVIDER = { name: 'twilio', configuration: { sid: 'AC0123456789abcdef0123456789abcdef', delivery_methods: ['text'], default_from: '+15005550006' } };

/**
 * Issue 14: Auth0's own auth0-deploy-cli (a dev dependency, run as its own process over HTTPS)
 * exports a Sesame tenant in YAML and directory form and imports a changed configuration back,
 * with no AUTH0_EXCLUDED: every resource type it knows must answer, Sesame's own ones exactly and
 * the ones Sesame has no feature for as an Auth0 tenant that does not use them.
 */
// One backend: deploy-cli costs about a CPU-minute per run, and every route it calls is covered on
// both backends by the e2e suites (management-api, absent-features, roles); this file proves the tool's flow.
for (const { backend, skip } of (await backendMatrix()).filter((b) => b.backend === 'sqlite')) {
  describe(`auth0-deploy-cli export and import [${backend}]`, { skip }, () => {
    let server: TestServer;
    let cert: TestCert;
    let dir: string;
    const plainFetch = globalThis.fetch;
    before(async () => {
      cert = await makeTestCert();
      globalThis.fetch = trustedFetch(cert.ca);
      server = await bootServer({ backend, env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath } });
      dir = mkdtempSync(join(tmpdir(), 'sesame-deploy-cli-'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ AUTH0_DOMAIN: new URL(server.issuer).host, AUTH0_CLIENT_ID: MGMT.client_id, AUTH0_CLIENT_SECRET: MGMT.client_secret }));
    });
    after(async () => {
      globalThis.fetch = plainFetch;
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** `a0deploy <args>`: the CA is trusted through NODE_EXTRA_CA_CERTS only; no AUTH0_EXCLUDED. */
    async function a0deploy(...args: string[]): Promise<string> {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AUTH0_') && !k.startsWith('SESAME_')));
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [A0DEPLOY, ...args, '-c', join(dir, 'config.json')], {
          env: { ...env, NODE_EXTRA_CA_CERTS: cert.certPath, NO_COLOR: '1' },
          timeout: 600_000,
          maxBuffer: 16 * 1024 * 1024,
        });
        return stdout;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        assert.fail(`a0deploy ${args[0]} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
      }
    }

    it('exports YAML and imports a changed copy: a new client, the code length, tenant settings, the login page, attack protection, phone texts', async () => {
      await mgmt(server, 'POST', '/branding/phone/providers', { ...PROVIDER, credentials: { auth_token: TWILIO_TOKEN } });
      await mgmt(server, 'POST', '/branding/phone/templates', { type: 'otp_verify', content: { body: { text: '{{ code }} is your code' } } });
      const out = join(dir, 'yaml');
      await a0deploy('export', '-f', 'yaml', '-o', out);
      const doc = YAML.parse(readFileSync(join(out, 'tenant.yaml'), 'utf8')) as Record<string, any>;
      // Sesame's resources, as they are.
      assert.ok(doc.clients.some((c: any) => c.name === 'Default App'));
      assert.deepEqual(doc.connections.map((c: any) => c.name), ['email']);
      assert.equal(doc.tenant.flags.enforce_client_authentication_on_passwordless_start, false);
      // What Sesame has no feature for reads as an Auth0 tenant that does not use it.
      assert.deepEqual([doc.rules, doc.hooks, doc.actions, doc.organizations, doc.triggers], [[], [], [], [], {}]);
      // Attack protection and the phone provider and templates, in Auth0's shape (issue 14).
      assert.deepEqual(doc.attackProtection.bruteForceProtection, { allowlist: [], enabled: true, max_attempts: 10, mode: 'count_per_identifier_and_ip', shields: ['block', 'user_notification'] });
      assert.deepEqual(doc.attackProtection.suspiciousIpThrottling.stage['pre-login'], { max_attempts: 50, rate: 72_000 });
      assert.equal(doc.attackProtection.breachedPasswordDetection.enabled, false);
      assert.deepEqual(doc.phoneProviders, [{ ...PROVIDER, disabled: false, credentials: { auth_token: '##TWILIO_AUTH_TOKEN##' } }]);
      assert.deepEqual(doc.phoneTemplates, [{ type: 'otp_verify', disabled: false, content: { syntax: 'liquid', body: { text: '{{ code }} is your code' } } }]);
      assert.ok(!readFileSync(join(out, 'tenant.yaml'), 'utf8').includes(TWILIO_TOKEN), 'the Auth Token is never exported');

      doc.attackProtection.bruteForceProtection.max_attempts = 4;
      doc.attackProtection.suspiciousIpThrottling.allowlist = ['192.0.2.0/24'];
      doc.phoneTemplates[0].content.body.text = 'Your code: {{ code }}';
      // The export holds `##TWILIO_AUTH_TOKEN##` where the write-only token was: the operator fills it in.
      doc.phoneProviders[0].credentials.auth_token = TWILIO_TOKEN;

      doc.clients.push({ name: 'Deployed SPA', app_type: 'spa', callbacks: ['https://spa.example/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
      doc.connections[0].options.totp.length = 8;
      doc.tenant.friendly_name = 'Deployed by a0deploy';
      doc.tenant.flags.enforce_client_authentication_on_passwordless_start = true;
      // Files are named relative to the YAML document, as deploy-cli writes them.
      mkdirSync(join(out, 'pages'), { recursive: true });
      writeFileSync(join(out, 'pages', 'login.html'), '<html>@@config@@</html>');
      doc.pages = [{ name: 'login', enabled: true, html: './pages/login.html' }];
      // Email templates (stored, Sesame sends none of them) and the hosted page's custom text.
      mkdirSync(join(out, 'emailTemplates'), { recursive: true });
      writeFileSync(join(out, 'emailTemplates', 'welcome_email.html'), '<p>Welcome {{ user.email }}</p>');
      doc.emailTemplates = [{ template: 'welcome_email', enabled: true, from: 'hello@acme.example', subject: 'Welcome', syntax: 'liquid', body: './emailTemplates/welcome_email.html', urlLifetimeInSeconds: 3600 }];
      doc.prompts = { ...doc.prompts, identifier_first: true, customText: { fr: { 'login-passwordless': { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } } } } };
      const changed = join(out, 'changed.yaml');
      writeFileSync(changed, YAML.stringify(doc));
      await a0deploy('import', '-i', changed);

      const spa = (await mgmt(server, 'GET', '/clients?per_page=100')).find((c: any) => c.name === 'Deployed SPA');
      assert.deepEqual([spa?.app_type, spa?.callbacks], ['spa', ['https://spa.example/callback']]);
      const email = (await mgmt(server, 'GET', '/connections?name=email'))[0];
      assert.equal(email.options.totp.length, 8);
      const tenant = await mgmt(server, 'GET', '/tenants/settings');
      assert.equal(tenant.friendly_name, 'Deployed by a0deploy');
      assert.equal(tenant.flags.enforce_client_authentication_on_passwordless_start, true);
      assert.deepEqual([tenant.custom_login_page_on, tenant.custom_login_page], [true, '<html>@@config@@</html>']);
      // The login page reads back through the global client, where deploy-cli's next export finds it.
      const [global] = await mgmt(server, 'GET', '/clients?is_global=true');
      assert.deepEqual([global.global, global.custom_login_page_on, global.custom_login_page], [true, true, '<html>@@config@@</html>']);
      assert.deepEqual(await mgmt(server, 'GET', '/email-templates/welcome_email'), {
        template: 'welcome_email', enabled: true, from: 'hello@acme.example', subject: 'Welcome', syntax: 'liquid', body: '<p>Welcome {{ user.email }}</p>', urlLifetimeInSeconds: 3600,
      });
      assert.deepEqual(await mgmt(server, 'GET', '/prompts/login-passwordless/custom-text/fr'), { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });

      // The new threshold is enforced: the 4th wrong code blocks the pair.
      assert.equal((await mgmt(server, 'GET', '/attack-protection/brute-force-protection')).max_attempts, 4);
      assert.deepEqual((await mgmt(server, 'GET', '/attack-protection/suspicious-ip-throttling')).allowlist, ['192.0.2.0/24']);
      const guess = () => server.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...server.defaultApp, realm: 'email', username: 'deployed@example.com', otp: '000000' });
      for (let i = 0; i < 4; i++) assert.equal((await guess()).status, 403, `guess ${i + 1}`);
      assert.equal((await guess()).status, 429);
      const [template] = (await mgmt(server, 'GET', '/branding/phone/templates')).templates;
      assert.equal(template.content.body.text, 'Your code: {{ code }}');
      const [provider] = (await mgmt(server, 'GET', '/branding/phone/providers')).providers;
      assert.deepEqual(provider.configuration, PROVIDER.configuration);
      const stored = await server.services.store.getSetting<{ auth_token_enc: string }>('phone_provider');
      assert.equal(server.services.keyring.open('phone-provider:twilio', stored!.auth_token_enc), TWILIO_TOKEN, 'the import set the token');
    });

    it('exports the directory form and imports it back unchanged', async () => {
      const out = join(dir, 'directory');
      await a0deploy('export', '-f', 'directory', '-o', out);
      const types = readdirSync(out).sort();
      for (const t of ['clients', 'connections', 'tenant.json']) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
      // The email template set by the YAML import comes back as deploy-cli writes it: metadata and body apart.
      assert.equal(readFileSync(join(out, 'emails', 'welcome_email.html'), 'utf8'), '<p>Welcome {{ user.email }}</p>');
      assert.equal(JSON.parse(readFileSync(join(out, 'emails', 'welcome_email.json'), 'utf8')).subject, 'Welcome');
      // Custom text is exported for each of the tenant's enabled_locales (GET /tenants/settings).
      const customText = JSON.parse(readFileSync(join(out, 'prompts', 'custom-text.json'), 'utf8'));
      assert.deepEqual(customText.fr?.['login-passwordless'], { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });
      await a0deploy('import', '-i', out);
    });

    it('fails an import that uses a feature Sesame does not have, naming it', async () => {
      const bad = join(dir, 'with-rule.yaml');
      writeFileSync(bad, YAML.stringify({ rules: [{ name: 'add-claims', script: './add-claims.js', stage: 'login_success', enabled: true, order: 1 }] }));
      writeFileSync(join(dir, 'add-claims.js'), 'function (user, context, cb) { cb(null, user, context); }');
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AUTH0_') && !k.startsWith('SESAME_')));
      const run = await promisify(execFile)(process.execPath, [A0DEPLOY, 'import', '-i', bad, '-c', join(dir, 'config.json')], {
        env: { ...env, NODE_EXTRA_CA_CERTS: cert.certPath, NO_COLOR: '1' },
        timeout: 600_000,
      }).then(() => ({ code: 0, out: '' }), (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
      assert.notEqual(run.code, 0);
      assert.match(run.out, /Sesame does not support rules/);
    });
  });
}
