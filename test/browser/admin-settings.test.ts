import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN, dashboardMissing, go, settled, signInAdmin, startAdminSuite } from '../helpers/admin-dashboard.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { MGMT } from '../helpers/boot.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { type EmailApiFake, startEmailApiFake } from '../helpers/email-api-fakes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

const WAIT = 20_000;
type Json = Record<string, any>;

/** An HTTP log-stream endpoint: what Sesame POSTs to it, parsed. */
async function startReceiver() {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        bodies.push(JSON.parse(body));
      } catch {
        bodies.push(body);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`, bodies, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Issue 12, Settings pages other than Advanced, in Chromium on each backend: each action is done in
 * the dashboard, then its effect is checked through the Management API (or the mail sink, or the
 * log stream's endpoint). One server and one signed-in page per backend.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`admin dashboard: settings pages [${backend}]`, { skip: skip || browserUnavailable() || dashboardMissing() }, () => {
    let suite: BrowserSuite;
    let page: Page;
    let sendgrid: EmailApiFake;
    // The Management API with a client-credentials token of its own: suite.api keeps its first token,
    // which revoking the key that signed it (the signing keys test) rightly invalidates.
    let token: string | undefined;
    const api = async (method: string, path: string, body?: unknown): Promise<any> => {
      token ??= ((await (await suite.fetch(`${suite.issuer}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${suite.issuer}api/v2/` }),
      })).json()) as { access_token: string }).access_token;
      const res = await suite.fetch(`${suite.issuer}api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const save = async () => {
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
    };

    before(async () => {
      sendgrid = await startEmailApiFake('sendgrid');
      suite = await startAdminSuite(backend, { SESAME_EMAIL_API_URL_SENDGRID: sendgrid.url });
      page = await (await suite.context()).newPage();
      await signInAdmin(suite, page);
    });
    after(async () => {
      await suite?.close();
      await sendgrid?.close();
    });

    it('tenant: friendly name and support email (a refusal shown under its field)', async () => {
      await go(page, 'settings/tenant');
      // The server's refusal names the property; the dashboard shows it under that field.
      await page.getByLabel('Friendly name').fill('x'.repeat(300));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const refused = page.getByLabel('Friendly name').locator('xpath=following-sibling::p[contains(@class,"field-error")]');
      await refused.waitFor({ timeout: WAIT });
      assert.match(await refused.innerText(), /String is too long \(300 chars\), maximum 255' on property friendly_name/);
      assert.equal(await page.getByLabel('Friendly name').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('Friendly name').fill('Acme Sign-in');
      await page.getByLabel('Support email').fill('help@acme.example');
      await save();
      const s = (await api('GET', '/tenants/settings')) as Json;
      assert.deepEqual([s.friendly_name, s.support_email], ['Acme Sign-in', 'help@acme.example']);
    });

    it('branding: logo URL and primary colour, shown in the preview of the hosted login page, then saved', async () => {
      await go(page, 'settings/branding');
      const preview = page.locator('.login-preview');
      await preview.waitFor({ timeout: WAIT });
      const logo = `${suite.issuer}favicon.ico?brand`;
      await page.getByLabel('Logo URL').fill(logo);
      await page.getByLabel('Primary colour').fill('#aa3300');
      assert.equal(await preview.locator('img').getAttribute('src'), logo, 'the preview follows the unsaved logo');
      assert.equal(await preview.locator('.fake-button').evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor), 'rgb(170, 51, 0)');
      await save();
      const b = (await api('GET', '/branding')) as Json;
      assert.deepEqual([b.logo_url, b.colors?.primary], [logo, '#aa3300']);
    });

    it('signing keys: rotate, then revoke the previous key', async () => {
      const before = (await api('GET', '/keys/signing')) as Json[];
      const oldCurrent = before.find((k) => k.current)!.kid;
      await go(page, 'settings/keys');
      await settled(page);
      await page.getByRole('button', { name: 'Rotate signing key' }).click();
      await page.locator('.card', { hasText: oldCurrent }).getByText('previous').waitFor({ timeout: WAIT });
      const rotated = (await api('GET', '/keys/signing')) as Json[];
      assert.notEqual(rotated.find((k) => k.current)!.kid, oldCurrent);
      assert.equal(rotated.find((k) => k.kid === oldCurrent)!.previous, true);

      await page.locator('.card', { hasText: oldCurrent }).getByRole('button', { name: 'Revoke' }).click();
      await page.locator('[data-testid="confirm-dialog"]').getByText(`Revoke key ${oldCurrent}?`).waitFor();
      await page.locator('[data-testid="confirm-accept"]').click();
      // The dashboard's own access token was signed with that key: it carries on with a new one.
      await page.locator('.card', { hasText: oldCurrent }).getByText('revoked').waitFor({ timeout: WAIT });
      token = undefined;
      assert.equal(((await api('GET', '/keys/signing')) as Json[]).find((k) => k.kid === oldCurrent)!.revoked, true);
    });

    it('log streams: add an HTTP stream that receives the logs, then delete it', async () => {
      const receiver = await startReceiver();
      try {
        await go(page, 'settings/log-streams');
        await page.getByLabel('Name').fill('Archive');
        await page.getByLabel('Endpoint URL').fill(receiver.url);
        await page.getByRole('button', { name: 'Add an HTTP log stream' }).last().click();
        const card = page.locator('.card', { hasText: 'Archive' });
        await card.waitFor({ timeout: WAIT });
        const streams = (await api('GET', '/log-streams')) as Json[];
        assert.deepEqual(streams.map((s) => [s.name, s.type, s.sink.httpEndpoint]), [['Archive', 'http', receiver.url]]);
        await waitUntilReceived(receiver.bodies);

        await card.getByRole('button', { name: 'Delete' }).click();
        await page.getByText('No log stream.').waitFor({ timeout: WAIT });
        assert.deepEqual(await api('GET', '/log-streams'), []);
      } finally {
        await receiver.close();
      }
    });

    it('APIs: add a resource server, then delete it', async () => {
      await go(page, 'settings/apis');
      await page.getByLabel('Name').fill('Orders');
      await page.getByLabel('Identifier (audience)').fill('https://orders.example/');
      await page.getByRole('button', { name: 'Add an API' }).last().click();
      const card = page.locator('.card', { hasText: 'https://orders.example/' });
      await card.waitFor({ timeout: WAIT });
      const listed = ((await api('GET', '/resource-servers')) as Json[]).find((r) => r.identifier === 'https://orders.example/');
      assert.equal(listed?.name, 'Orders');
      await card.getByRole('button', { name: 'Delete' }).click();
      await card.waitFor({ state: 'detached', timeout: WAIT });
      assert.ok(!((await api('GET', '/resource-servers')) as Json[]).some((r) => r.identifier === 'https://orders.example/'));
    });

    it('administrators: add one, who is then listed by the API, and remove them', async () => {
      const email = uniqueEmail('second-admin');
      await go(page, 'settings/admins');
      await page.getByPlaceholder('Email').fill(email);
      await page.getByRole('button', { name: 'Add administrator' }).click();
      const card = page.locator('.card', { hasText: email });
      await card.waitFor({ timeout: WAIT });
      assert.deepEqual(((await api('GET', '/sesame/admins')) as Json[]).filter((a) => a.email === email).map((a) => a.source), ['database']);
      assert.ok(await page.locator('.card', { hasText: ADMIN }).getByRole('button', { name: 'Remove' }).count() === 0, 'an env administrator cannot be removed here');
      await card.getByRole('button', { name: 'Remove' }).click();
      await card.waitFor({ state: 'detached', timeout: WAIT });
      assert.ok(!((await api('GET', '/sesame/admins')) as Json[]).some((a) => a.email === email));
    });

    // Last two: from here on, mail goes to the new provider rather than the suite's sink.
    it('email provider: SMTP settings, then a test message arrives at that SMTP server', async () => {
      let other: SmtpSink | undefined;
      try {
        other = await startSmtpSink();
        await go(page, 'settings/email');
        await page.getByLabel('SMTP host').fill('127.0.0.1');
        await page.getByLabel('SMTP port').fill(String(other.port));
        await page.getByLabel('Default from address').fill('no-reply@acme.example');
        await save();
        const p = (await api('GET', '/emails/provider')) as Json;
        assert.deepEqual([p.name, p.enabled, p.credentials?.smtp_host, p.credentials?.smtp_port, p.default_from_address], ['smtp', true, '127.0.0.1', other.port, 'no-reply@acme.example']);
        // The mail worker reads the provider at most once a second (src/mail/transport.ts CHECK_MS).
        await new Promise((r) => setTimeout(r, 1100));
        await page.getByRole('button', { name: `Send a test message to ${ADMIN}` }).click();
        await page.getByText(`Test message sent to ${ADMIN}.`).waitFor({ timeout: WAIT });
        const sink = other;
        const m = await sink.waitFor((x) => x.to === ADMIN, WAIT);
        assert.match(m.subject, /^\[Test\] /);
      } finally {
        await other?.close();
      }
    });

    it('email provider: one configured through the API (SendGrid) is shown as such, and saving keeps it and its key', async () => {
      await api('PATCH', '/emails/provider', { name: 'sendgrid', enabled: true, default_from_address: 'login@acme.example', credentials: sendgrid.credentials });
      // Away and back: the page loads the provider afresh (the previous test left it open). The
      // router renders navigations as transitions: two pushed back to back can be rendered as one,
      // leaving the email page mounted with the previous test's provider. The tenant tab must show first.
      await go(page, 'settings/tenant');
      await page.getByRole('heading', { level: 2, name: 'Tenant', exact: true }).waitFor({ timeout: WAIT });
      await go(page, 'settings/email');
      const chooser = page.getByLabel('Provider', { exact: true });
      await chooser.waitFor({ timeout: WAIT });
      // The page may show what it had cached before its fresh read of the provider arrives.
      await chooser.locator('option:checked', { hasText: 'SendGrid' }).waitFor({ state: 'attached', timeout: WAIT });
      assert.equal(await chooser.inputValue(), 'sendgrid');
      assert.equal((await chooser.locator('option:checked').textContent())?.trim(), 'SendGrid');
      assert.equal(await page.getByLabel('SMTP host').count(), 0, "SMTP's fields are not shown");
      const key = page.getByLabel('API key');
      assert.deepEqual([await key.inputValue(), await key.getAttribute('type'), await key.getAttribute('placeholder')], ['', 'password', 'set (type to replace)'], 'the key is write-only');
      await page.getByLabel('Default from address').fill('Acme <hello@acme.example>');
      await save();
      const p = (await api('GET', '/emails/provider')) as Json;
      assert.deepEqual([p.name, p.enabled, p.default_from_address], ['sendgrid', true, 'Acme <hello@acme.example>']);
      assert.equal(p.credentials?.api_key, undefined, 'never returned');
      // The key was kept: SendGrid (the fake refuses any other key with a 401) accepts the test message.
      await new Promise((r) => setTimeout(r, 1100));
      await page.getByRole('button', { name: `Send a test message to ${ADMIN}` }).click();
      await page.getByText(`Test message sent to ${ADMIN}.`).waitFor({ timeout: WAIT });
      const m = await sendgrid.waitFor((x) => x.to === ADMIN, WAIT);
      assert.match(m.from, /hello@acme\.example/);
    });
  });
}

async function waitUntilReceived(bodies: unknown[]): Promise<void> {
  const end = Date.now() + WAIT;
  while (bodies.length === 0) {
    if (Date.now() > end) assert.fail('the log stream delivered nothing');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(JSON.stringify(bodies[0]).includes('log_id'), 'log events were delivered');
}
