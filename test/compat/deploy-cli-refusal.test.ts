import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { backendMatrix } from '../helpers/backends.ts';
import { deployCliSuite } from '../helpers/deploy-cli.ts';

/** Issue 14: an auth0-deploy-cli import that needs a feature Sesame does not have fails, naming it (see deploy-cli.test.ts). */
for (const { backend, skip } of (await backendMatrix()).filter((b) => b.backend === 'sqlite')) {
  describe(`auth0-deploy-cli import of an absent feature [${backend}]`, { skip }, () => {
    const suite = deployCliSuite(backend);

    it('fails an import that uses a feature Sesame does not have, naming it', async () => {
      const bad = join(suite.dir, 'with-rule.yaml');
      writeFileSync(bad, YAML.stringify({ rules: [{ name: 'add-claims', script: './add-claims.js', stage: 'login_success', enabled: true, order: 1 }] }));
      writeFileSync(join(suite.dir, 'add-claims.js'), 'function (user, context, cb) { cb(null, user, context); }');
      const run = await suite.a0deployRun('import', '-i', bad);
      assert.notEqual(run.code, 0);
      assert.match(run.out, /Sesame does not support rules/);
    });
  });
}
