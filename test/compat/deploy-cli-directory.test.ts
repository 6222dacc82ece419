import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { deployCliSuite } from '../helpers/deploy-cli.ts';
import { mgmt } from '../helpers/management.ts';

/** Issue 14: auth0-deploy-cli's directory form, exported from Sesame and imported back (see deploy-cli.test.ts). */
for (const { backend, skip } of (await backendMatrix()).filter((b) => b.backend === 'sqlite')) {
  describe(`auth0-deploy-cli directory export and import [${backend}]`, { skip }, () => {
    const suite = deployCliSuite(backend);

    it('exports the directory form and imports it back unchanged', async () => {
      // An email template and French custom text, set through the API, for the export to carry.
      await mgmt(suite.server, 'POST', '/email-templates', { template: 'welcome_email', enabled: true, from: 'hello@acme.example', subject: 'Welcome', syntax: 'liquid', body: '<p>Welcome {{ user.email }}</p>' });
      await mgmt(suite.server, 'PUT', '/prompts/login-passwordless/custom-text/fr', { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });
      const out = join(suite.dir, 'directory');
      await suite.a0deploy('export', '-f', 'directory', '-o', out);
      const types = readdirSync(out).sort();
      for (const t of ['clients', 'connections', 'tenant.json']) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
      // The email template comes back as deploy-cli writes it: metadata and body apart.
      assert.equal(readFileSync(join(out, 'emails', 'welcome_email.html'), 'utf8'), '<p>Welcome {{ user.email }}</p>');
      assert.equal(JSON.parse(readFileSync(join(out, 'emails', 'welcome_email.json'), 'utf8')).subject, 'Welcome');
      // Custom text is exported for each of the tenant's enabled_locales (GET /tenants/settings).
      const customText = JSON.parse(readFileSync(join(out, 'prompts', 'custom-text.json'), 'utf8'));
      assert.deepEqual(customText.fr?.['login-passwordless'], { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });
      await suite.a0deploy('import', '-i', out);
      assert.deepEqual(await mgmt(suite.server, 'GET', '/prompts/login-passwordless/custom-text/fr'), { 'login-passwordless-email-code': { title: 'Consultez vos e-mails' } });
      assert.equal((await mgmt(suite.server, 'GET', '/email-templates/welcome_email')).subject, 'Welcome');
    });
  });
}
