import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMailbox, parseMailbox } from '../../src/mail/providers/address.ts';
import { REQUESTS } from '../../src/mail/providers/requests.ts';

/** Issue 14: the providers' own hosts (per region) and sender forms, which the e2e fakes cannot see behind their origin override. */
const mail = { to: 'jane@example.com', from: 'Café Crème <login@example.com>', subject: 'Your code', html: '<p>123456</p>', text: '123456' };
const T = Date.UTC(2026, 11, 7, 9, 0, 0);

describe('email provider requests', () => {
  it('Mailgun and SparkPost use their EU hosts for region "eu", the US ones otherwise', () => {
    assert.equal(REQUESTS.mailgun({ api_key: 'k', domain: 'mg.example.com', region: 'eu' }, mail, undefined, T).url, 'https://api.eu.mailgun.net/v3/mg.example.com/messages');
    assert.equal(REQUESTS.mailgun({ api_key: 'k', domain: 'mg.example.com', region: null }, mail, undefined, T).url, 'https://api.mailgun.net/v3/mg.example.com/messages');
    assert.equal(REQUESTS.sparkpost({ api_key: 'k', region: 'eu' }, mail, undefined, T).url, 'https://api.eu.sparkpost.com/api/v1/transmissions');
    assert.equal(REQUESTS.sparkpost({ api_key: 'k' }, mail, undefined, T).url, 'https://api.sparkpost.com/api/v1/transmissions');
    assert.equal(REQUESTS.sendgrid({ api_key: 'k' }, mail, undefined, T).url, 'https://api.sendgrid.com/v3/mail/send');
  });

  it('SES: the regional endpoint, a signature scoped to that region and service "ses", an encoded non-ASCII sender name', () => {
    const r = REQUESTS.ses({ accessKeyId: 'AKIAEXAMPLE00000000', secretAccessKey: 's', region: 'eu-west-1', configuration_set_name: 'auth' }, mail, undefined, T);
    assert.equal(r.url, 'https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails');
    assert.match(r.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE00000000\/20261207\/eu-west-1\/ses\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/);
    assert.equal(r.headers['x-amz-date'], '20261207T090000Z');
    const body = JSON.parse(r.body as string);
    assert.equal(body.FromEmailAddress, `=?UTF-8?B?${Buffer.from('Café Crème').toString('base64')}?= <login@example.com>`);
    assert.equal(body.ConfigurationSetName, 'auth');
    assert.deepEqual(body.Destination, { ToAddresses: ['jane@example.com'] });
  });

  it('SendGrid and SparkPost take the sender as {email, name}', () => {
    assert.deepEqual(JSON.parse(REQUESTS.sendgrid({ api_key: 'k' }, mail, undefined, T).body as string).from, { email: 'login@example.com', name: 'Café Crème' });
    assert.deepEqual(JSON.parse(REQUESTS.sparkpost({ api_key: 'k' }, { ...mail, from: 'login@example.com' }, undefined, T).body as string).content.from, { email: 'login@example.com' });
  });

  it('a display name with specials is quoted; a quoted one is read back', () => {
    assert.equal(formatMailbox({ name: 'Acme, Inc.', address: 'a@example.com' }), '"Acme, Inc." <a@example.com>');
    assert.equal(formatMailbox({ name: 'Acme', address: 'a@example.com' }), 'Acme <a@example.com>');
    assert.deepEqual(parseMailbox('"Acme, Inc." <a@example.com>'), { name: 'Acme, Inc.', address: 'a@example.com' });
    assert.deepEqual(parseMailbox('a@example.com'), { address: 'a@example.com' });
  });
});
