import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiFailure, domainBase } from '../../src/migration/api.ts';
import { applySet } from '../../src/tenant-io/format.ts';
import { missingSecrets } from '../../src/tenant-io/secrets.ts';
import type { TenantDoc } from '../../src/tenant-io/document.ts';

describe('--domain', () => {
  it('takes host[:port] (https, as Auth0 SDKs do) or a full http(s) URL', () => {
    assert.equal(domainBase('tenant.eu.auth0.com'), 'https://tenant.eu.auth0.com/');
    assert.equal(domainBase('localhost:3000'), 'https://localhost:3000/');
    assert.equal(domainBase('http://localhost:3000'), 'http://localhost:3000/');
    assert.equal(domainBase('http://[::1]:3000/'), 'http://[::1]:3000/');
    assert.equal(domainBase('https://auth.example.com/tenant'), 'https://auth.example.com/tenant/');
    for (const bad of ['ftp://x', 'http://u:p@x/', 'http://x/?a=1', 'not a host', 'http://']) assert.throws(() => domainBase(bad), ApiFailure, bad);
  });
});

describe('--set', () => {
  it('reaches a list item by its name, and refuses an unknown one', () => {
    const doc: TenantDoc = { connections: [{ name: 'email', strategy: 'email' }, { name: 'sms', strategy: 'sms', options: { provider: 'twilio' } }], clients: [{ name: 'Shop' }] };
    applySet(doc, 'connections.sms.options.twilio_token=tok=en');
    applySet(doc, 'clients.Shop.client_secret=s3cret');
    assert.deepEqual(doc.connections![1]!.options, { provider: 'twilio', twilio_token: 'tok=en' });
    assert.equal(doc.clients![0]!.client_secret, 's3cret');
    assert.throws(() => applySet(doc, 'connections.nope.options.x=1'), /lists no item named "nope"/);
  });
});

describe('missing secrets', () => {
  it('names SMS provider secrets, the SMTP password and confidential clients’ secrets; never a public client’s', () => {
    const doc: TenantDoc = {
      clients: [{ name: 'SPA', app_type: 'spa' }, { name: 'Native', token_endpoint_auth_method: 'none' }, { name: 'Web', app_type: 'regular_web' }, { name: 'Kept', client_secret: 'x' }],
      connections: [
        { name: 'tw', strategy: 'sms', options: {} },
        { name: 'gw', strategy: 'sms', options: { provider: 'sms_gateway', gateway_authentication: { method: 'bearer' } } },
        { name: 'gw-open', strategy: 'sms', options: { provider: 'sms_gateway' } },
        { name: 'email', strategy: 'email', options: {} },
      ],
      emailProvider: { name: 'smtp', credentials: { smtp_host: 'h' } },
    };
    assert.deepEqual(missingSecrets(doc).map((m) => m.path), [
      'clients.Web.client_secret',
      'connections.tw.options.twilio_token',
      'connections.gw.options.gateway_authentication.secret',
      'emailProvider.credentials.smtp_pass',
    ]);
  });
});
