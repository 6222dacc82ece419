import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/** @see issue 14: /api/v2/email-templates in Auth0's shape (stored and returned; Sesame sends none of them). */

for (const { backend, skip } of await backendMatrix()) {
  describe(`email templates [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(() => server?.close());

    const welcome = {
      template: 'welcome_email', body: '<p>Welcome {{ user.email }}</p>', from: 'Acme <hello@acme.example>', subject: 'Welcome to {{ application.name }}',
      syntax: 'liquid', resultUrl: 'https://acme.example/welcome', urlLifetimeInSeconds: 3600, enabled: true,
    };

    it('an unset template is 404 "Template not found"; an unknown name is 400', async () => {
      const unset = await mgmtCall(server, 'GET', '/email-templates/verify_email');
      assert.deepEqual([unset.status, unset.json.message], [404, 'Template not found']);
      assert.equal((await mgmtCall(server, 'PATCH', '/email-templates/reset_email', { enabled: false })).status, 404);
      const unknown = await mgmtCall(server, 'GET', '/email-templates/no_such_template');
      assert.deepEqual([unknown.status, unknown.json.errorCode], [400, 'invalid_uri']);
    });

    it('POST creates (409 the second time), GET returns it, PATCH changes fields, PUT replaces', async () => {
      const created = await mgmtCall(server, 'POST', '/email-templates', welcome);
      assert.equal(created.status, 201);
      assert.deepEqual(created.json, welcome);
      const again = await mgmtCall(server, 'POST', '/email-templates', welcome);
      assert.equal(again.status, 409);
      assert.deepEqual(await mgmt(server, 'GET', '/email-templates/welcome_email'), welcome);
      const patched = await mgmt(server, 'PATCH', '/email-templates/welcome_email', { subject: 'Hello', enabled: false });
      assert.deepEqual(patched, { ...welcome, subject: 'Hello', enabled: false });
      const replaced = await mgmt(server, 'PUT', '/email-templates/blocked_account', { body: '<p>Blocked</p>', from: '', subject: 'Blocked', syntax: 'liquid', enabled: true });
      assert.deepEqual(replaced, { template: 'blocked_account', body: '<p>Blocked</p>', from: '', subject: 'Blocked', syntax: 'liquid', enabled: true });
      const put = await mgmt(server, 'PUT', '/email-templates/welcome_email', { template: 'welcome_email', body: '<p>Hi</p>', syntax: 'liquid', enabled: true });
      assert.deepEqual(put, { template: 'welcome_email', body: '<p>Hi</p>', syntax: 'liquid', enabled: true });
      assert.deepEqual(await mgmt(server, 'GET', '/email-templates/welcome_email'), put);
    });

    it('validates as Auth0: a known template, Liquid that parses, known fields', async () => {
      for (const [method, path, body] of [
        ['POST', '/email-templates', { body: '<p>x</p>' }],
        ['POST', '/email-templates', { template: 'nope', body: '<p>x</p>' }],
        ['POST', '/email-templates', { template: 'stolen_credentials', body: '{% if %}' }],
        ['POST', '/email-templates', { template: 'stolen_credentials', syntax: 'handlebars' }],
        ['POST', '/email-templates', { template: 'stolen_credentials', colour: 'red' }],
        ['POST', '/email-templates', { template: 'stolen_credentials', resultUrl: 'javascript:alert(1)' }],
        ['PUT', '/email-templates/user_invitation', { template: 'welcome_email' }],
        ['PUT', '/email-templates/user_invitation', { urlLifetimeInSeconds: -1 }],
      ] as const) {
        const res = await mgmtCall(server, method, path, body);
        assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
      }
      assert.equal((await mgmtCall(server, 'GET', '/email-templates/stolen_credentials')).status, 404);
    });
  });
}
