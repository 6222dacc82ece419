import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { ADMIN, adminScreenshot, dashboardMissing, go, settled, signIn, waitForAttribute, signInAdmin, startAdminSuite, tabTo } from '../helpers/admin-dashboard.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { createClient } from '../helpers/fixtures.ts';
import { assertAccessible, assertNoHorizontalScroll, expectEmailForm } from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

const WAIT = 20_000;

/** Every page of the dashboard, by its deep link (some need an id: `ids` is filled in `before`), with what shows it has loaded. */
const ids: Record<string, string> = {};
const PAGES: { name: string; path: string | (() => string); ready: string }[] = [
  { name: 'activity', path: 'activity', ready: '.tile' },
  { name: 'logs', path: 'logs?q=type%3Adepnote', ready: '[data-testid="log-row"]' },
  { name: 'log-detail', path: () => `logs?q=type%3Adepnote&log=${ids.log}`, ready: '[data-testid="log-detail"] pre' },
  { name: 'migration', path: 'migration', ready: '[data-testid="migration-caller"]' },
  { name: 'applications', path: 'applications', ready: '[data-testid="app-row"]' },
  { name: 'application', path: () => `applications/${ids.app}`, ready: 'form' },
  { name: 'connections', path: 'connections', ready: '.card' },
  { name: 'connection-email', path: () => `connections/${ids.email}`, ready: '.preview iframe' },
  { name: 'connection-sms', path: () => `connections/${ids.sms}`, ready: '[data-testid="sms-preview"] pre' },
  { name: 'users', path: 'users', ready: '[data-testid="user-row"]' },
  { name: 'user', path: () => `users/${ids.user}`, ready: '[data-testid="user-block"]' },
  { name: 'settings-tenant', path: 'settings/tenant', ready: 'form' },
  { name: 'settings-branding', path: 'settings/branding', ready: '.login-preview' },
  { name: 'settings-advanced', path: 'settings/advanced', ready: '[data-testid="enforce-toggle"]' },
  { name: 'settings-email', path: 'settings/email', ready: 'form' },
  { name: 'settings-keys', path: 'settings/keys', ready: '.card' },
  { name: 'settings-log-streams', path: 'settings/log-streams', ready: '.card' },
  { name: 'settings-apis', path: 'settings/apis', ready: '.card' },
  { name: 'settings-admins', path: 'settings/admins', ready: '.card' },
];

/**
 * Issue 12, quality: axe-core (no serious or critical violation) on every page at desktop size and
 * at 375 px (nothing wider than the screen), screenshots of each for the README (`npm run
 * screenshots`), and a keyboard-only sign-in and enforcement switch.
 */
describe('admin dashboard: accessibility, 375 px, keyboard, screenshots', { skip: browserUnavailable() || dashboardMissing() }, () => {
  let suite: BrowserSuite;

  before(async () => {
    suite = await startAdminSuite();
    // Something on every page: a caller that leaves a depnote, a signed-in user.
    const { client } = await createClient(suite.srv, { app_type: 'regular_web', name: 'Legacy backend', grant_types: [PASSWORDLESS_OTP_GRANT] });
    const res = await suite.fetch(`${suite.issuer}passwordless/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.client_id, connection: 'email', email: 'jo@example.com', send: 'code' }),
    });
    assert.equal(res.status, 200);
    await suite.mailTo('jo@example.com');
    ids.app = encodeURIComponent(client.client_id);
    ids.log = ((await suite.logs('type:depnote'))[0] as { log_id: string }).log_id;
    ids.email = ((await suite.api('GET', '/connections?name=email')).body as { id: string }[])[0]!.id;
    const sms = await suite.api('POST', '/connections', {
      name: 'sms', strategy: 'sms', options: { provider: 'twilio', twilio_sid: 'AC0123', twilio_token: 'token', from: '+15005550006' },
    });
    ids.sms = (sms.body as { id: string }).id;
    const user = await suite.api('POST', '/users', { email: 'jo@example.com', connection: 'email', email_verified: true });
    ids.user = encodeURIComponent((user.body as { user_id: string }).user_id);
    const stream = await suite.api('POST', '/log-streams', { name: 'Archive', type: 'http', sink: { httpEndpoint: 'https://logs.example/ingest' } });
    assert.ok(stream.status < 300, JSON.stringify(stream.body));
  });
  after(async () => suite?.close());

  async function visitAll(page: Page, phone: boolean) {
    for (const p of PAGES) {
      await go(page, typeof p.path === 'string' ? p.path : p.path());
      await page.locator(p.ready).first().waitFor({ timeout: WAIT }).catch(async () => assert.fail(`${p.name} did not load: ${page.url()}\n${await page.locator('body').innerText()}`));
      await settled(page);
      if (phone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, `the ${p.name} page${phone ? ' at 375 px' : ''}`);
      await adminScreenshot(page, p.name, phone);
    }
  }

  for (const phone of [false, true]) {
    it(`every page passes axe-core ${phone ? 'at 375 px without horizontal scrolling' : 'at desktop size'} (screenshots)`, async () => {
      const ctx = await suite.context({ phone });
      const page = await ctx.newPage();
      await signInAdmin(suite, page);
      await visitAll(page, phone);
      if (!phone) {
        // French, like the hosted pages: the switch in the header changes every label and <html lang>.
        await page.getByLabel('Language').selectOption('fr');
        assert.equal(await page.locator('[data-testid="nav-logs"]').innerText(), 'Journaux');
        assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
        await go(page, 'migration');
        await page.getByText('Imposer l’authentification du client pour les connexions sans mot de passe').first().waitFor({ timeout: WAIT });
        await assertAccessible(page, 'the migration page in French');
        await page.getByLabel('Langue').selectOption('en');
      }
      await ctx.close();
    });
  }

  it('the dialogs (create an application, its secret shown once) and the not-admin page pass axe-core', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await signInAdmin(suite, page);
    await go(page, 'applications');
    await page.locator('[data-testid="app-create"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Axe check');
    await assertAccessible(page, 'the create-application dialog');
    await adminScreenshot(page, 'create-application', false);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.locator('[data-testid="secret-value"]').waitFor({ timeout: WAIT });
    await assertAccessible(page, 'the new secret dialog');
    await adminScreenshot(page, 'new-secret', false);
    await ctx.close();

    const other = await suite.context();
    const p = await other.newPage();
    await signIn(suite, p, 'not-an-admin@example.com');
    await p.locator('[data-testid="not-admin"]').waitFor({ timeout: WAIT });
    await assertAccessible(p, 'the not-admin page');
    await adminScreenshot(p, 'not-admin', false);
    await other.close();
  });

  it('signs in and flips the enforcement switch with the keyboard alone', async () => {
    const ctx = await suite.context();
    const page = await ctx.newPage();
    await page.goto(`${suite.issuer}admin/migration`);
    await expectEmailForm(page);
    await tabTo(page, '[data-testid="email"]');
    await page.keyboard.type(ADMIN);
    await page.keyboard.press('Enter');
    const code = extractCode(await suite.mailTo(ADMIN));
    await page.locator('[data-testid="code"]').waitFor({ timeout: WAIT });
    await tabTo(page, '[data-testid="code"]');
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="migration-caller"]').first().waitFor({ timeout: WAIT });
    assert.equal(new URL(page.url()).pathname, '/admin/migration', 'the deep link survives the sign-in');

    await tabTo(page, '[data-testid="enforce-toggle"]');
    await page.keyboard.press('Space');
    await page.locator('[data-testid="confirm-dialog"]').waitFor({ timeout: WAIT });
    await tabTo(page, '[data-testid="confirm-accept"]', 10);
    await page.keyboard.press('Enter');
    await waitForAttribute(page, '[data-testid="enforce-toggle"]', 'aria-checked', 'true');
    // The focus is back on the switch: Space turns it off again (no confirmation for the safe direction).
    await tabTo(page, '[data-testid="enforce-toggle"]');
    await page.keyboard.press('Space');
    await waitForAttribute(page, '[data-testid="enforce-toggle"]', 'aria-checked', 'false');
    await ctx.close();
  });
});
