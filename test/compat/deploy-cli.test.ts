import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { deployCliSuite } from '../helpers/deploy-cli.ts';
import { mgmt } from '../helpers/management.ts';

const TWILIO_TOKEN = 'twilio-auth-token-for-deploy-cli';
const PROVIDER = { name: 'twilio', configuration: { sid: 'AC0123456789abcdef0123456789abcdef', delivery_methods: ['text'], default_from: '+15005550006' } };

/**
 * Issue 14: Auth0's own auth0-deploy-cli exports a Sesame tenant in YAML and imports a changed
 * configuration back, with no AUTH0_EXCLUDED: every resource type it knows must answer, Sesame's own
 * ones exactly and the ones Sesame has no feature for as an Auth0 tenant that does not use them.
 * The directory form and a refused import have files of their own (deploy-cli-*.test.ts).
 */
// One backend: deploy-cli costs about a CPU-minute per run, and every route it calls is covered on
// both backends by the e2e suites (management-api, absent-features, roles); this file proves the tool's flow.
for (const { backend, skip } of (await backendMatrix()).filter((b) => b.backend === 'sqlite')) {
  describe(`auth0-deploy-cli YAML export and import [${backend}]`, { skip }, () => {
    const suite = deployCliSuite(backend);

    it('exports YAML and imports a changed copy: a new client, the code length, tenant settings, the login page, attack protection, phone texts', async () => {
      await mgmt(suite.server, 'POST', '/branding/phone/providers', { ...PROVIDER, credentials: { auth_token: TWILIO_TOKEN } });
      await mgmt(suite.server, 'POST', '/branding/phone/templates', { type: 'otp_verify', content: { body: { text: '{{ code }} is your code' } } });
      const out = join(suite.dir, 'yaml');
      await suite.a0deploy('export', '-f', 'yaml', '-o', out);
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
      await suite.a0deploy('import', '-i', changed);

      const spa = (await mgmt(suite.server, 'GET', '/clients?per_page=100')).find((c: any) => c.name === 'Deployed SPA');
      assert.deepEqual([spa?.app_type, spa?.callbacks], ['spa', ['https://spa.example/callback']]);
      const email = (await mgmt(suite.server, 'GET', '/connections?name=email'))[0];
      assert.equal(email.options.totp.length, 8);
      const tenant = await mgmt(suite.server, 'GET', '/tenants/settings');
      assert.equal(tenant.friendly_name, 'Deployed by a0deploy');
      assert.equal(tenant.flags.enforce_client_authentication_on_passwordless_start, true);
      assert.deepEqual([tenant.custom_login_page_on, tenant.custom_login_page], [true, '<html>@@config@@</html>']);
      // The login page reads back through the global client, where deploy-cli's next export finds it.
      const [global] = await mgmt(suite.server, 'GET', '/clients?is_global=true');
      assert.deepEqual([global.global, global.custom_login_page_on, global.custom_login_page], [true, true, '<html>@@config@@</html>']);
      assert.deepEqual(await mgmt(suite.server, 'GET', '/email-templates/welcome_email'), {
        template: 'welcome_email', enabled: true, from: 'hello@acme.example', subject: 'Welcome', syntax: 'liquid', body: '<p>Welcome {{ user.email }}</p>', urlLifetimeInSeconds: 3600,
      });
      assert.deepEqual(await mgmt(suite.server, 'GET', '/prompts/login-passwordless/custom-text/fr'), { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });

      // The new threshold is enforced: the 4th wrong code blocks the pair.
      assert.equal((await mgmt(suite.server, 'GET', '/attack-protection/brute-force-protection')).max_attempts, 4);
      assert.deepEqual((await mgmt(suite.server, 'GET', '/attack-protection/suspicious-ip-throttling')).allowlist, ['192.0.2.0/24']);
      const guess = () => suite.server.post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...suite.server.defaultApp, realm: 'email', username: 'deployed@example.com', otp: '000000' });
      for (let i = 0; i < 4; i++) assert.equal((await guess()).status, 403, `guess ${i + 1}`);
      assert.equal((await guess()).status, 429);
      const [template] = (await mgmt(suite.server, 'GET', '/branding/phone/templates')).templates;
      assert.equal(template.content.body.text, 'Your code: {{ code }}');
      const [provider] = (await mgmt(suite.server, 'GET', '/branding/phone/providers')).providers;
      assert.deepEqual(provider.configuration, PROVIDER.configuration);
      const stored = await suite.server.services.store.getSetting<{ auth_token_enc: string }>('phone_provider');
      assert.equal(suite.server.services.keyring.open('phone-provider:twilio', stored!.auth_token_enc), TWILIO_TOKEN, 'the import set the token');
    });
  });
}
