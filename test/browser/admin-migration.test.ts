import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { ADMIN, dashboardMissing, open, signInAdmin, startAdminSuite, waitForAttribute, waitUntil } from '../helpers/admin-dashboard.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';

const FLAG = 'enforce_client_authentication_on_passwordless_start';
const WAIT = 20_000;

/**
 * Issue 12, the migration story through the dashboard, on both backends: an administrator signs in
 * with a mailed code; a backend calls /passwordless/start without its secret; the admin finds the
 * depnote with the Logs query and on the Migration page (kind backend, with its fix); the caller is
 * fixed; the admin turns enforcement on (a confirmation names the caller still in the window); a
 * non-compliant start then gets 403, a compliant one 200; the rollback turns it off again.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`admin dashboard: the migration story [${backend}]`, { skip: skip || browserUnavailable() || dashboardMissing() }, () => {
    let suite: BrowserSuite;
    let ctx: BrowserContext;
    let page: Page;
    let app: { client_id: string; secret: string; name: string };

    before(async () => {
      suite = await startAdminSuite(backend);
      const made = await createClient(suite.srv, { app_type: 'regular_web', name: 'Billing backend', grant_types: [PASSWORDLESS_OTP_GRANT] });
      app = { client_id: made.client.client_id, secret: made.secret, name: 'Billing backend' };
      ctx = await suite.context();
      page = await ctx.newPage();
    });
    after(async () => suite?.close());

    const start = (withSecret: boolean) =>
      suite.fetch(`${suite.issuer}passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'billing-cron/1.0 node' },
        body: JSON.stringify({ client_id: app.client_id, ...(withSecret ? { client_secret: app.secret } : {}), connection: 'email', email: uniqueEmail('story'), send: 'code' }),
      });

    it('the admin signs in with a mailed code through the hosted page', async () => {
      await signInAdmin(suite, page);
      assert.match(await page.locator('header').innerText(), new RegExp(ADMIN));
    });

    it('a backend without its secret makes a start; the Logs query finds its depnote, the live tail the next one', async () => {
      assert.equal((await start(false)).status, 200);
      await open(page, 'logs');
      await page.locator('[data-testid="logs-query"]').fill('type:depnote AND description:*passwordless*');
      await page.locator('[data-testid="logs-query"]').press('Enter');
      const row = page.locator('[data-testid="log-row"]', { hasText: app.name });
      // The unfiltered list shown before Enter also has rows naming the app: wait for the query's answer.
      await waitUntil(page, `(() => { const rows = [...document.querySelectorAll('[data-testid="log-row"]')]; return rows.length > 0 && rows.every((r) => r.textContent.includes('depnote')); })()`, 'the query\'s rows');
      assert.equal(await page.locator('[data-testid="log-row"]').count(), 1, 'only the depnote matches');
      assert.match(await row.innerText(), /depnote/);
      assert.match(new URL(page.url()).search, /q=type%3Adepnote/, 'the query is in the URL (deep link)');
      await row.locator('button').first().click();
      const detail = page.locator('[data-testid="log-detail"]');
      await detail.locator('pre').waitFor({ timeout: WAIT });
      const json = JSON.parse(await detail.locator('pre').innerText()) as Record<string, unknown>;
      assert.equal(json.type, 'depnote');
      assert.equal(json.client_id, app.client_id);

      // Live tail: a second call shows up without searching again.
      await page.getByLabel('Live tail').click();
      assert.equal((await start(false)).status, 200);
      await waitUntil(page, `document.querySelectorAll('[data-testid="log-row"]').length === 2`, 'the tailed depnote');
      await page.getByLabel('Live tail').click();
    });

    it('the Migration page names the caller, its kind and its fix', async () => {
      await open(page, 'migration');
      const caller = page.locator('[data-testid="migration-caller"]', { hasText: app.name });
      await caller.waitFor({ timeout: WAIT });
      assert.equal(await caller.getAttribute('data-kind'), 'backend');
      assert.match(await caller.innerText(), /billing-cron\/1\.0 node/);
      assert.match(await caller.locator('[data-testid="migration-fix"]').innerText(), /client secret/i);
      assert.match(await page.locator('[data-testid="migration-status"]').innerText(), /1 callers left/);
    });

    it('after the fix, enforcing asks first and names the caller; then a non-compliant start gets 403', async () => {
      assert.equal((await start(true)).status, 200, 'the fixed caller sends its secret');
      const toggle = page.locator('[data-testid="enforce-toggle"]');
      assert.equal(await toggle.getAttribute('aria-checked'), 'false');
      await toggle.click();
      const dialog = page.locator('[data-testid="confirm-dialog"]');
      await dialog.waitFor({ timeout: WAIT });
      assert.match(await dialog.innerText(), new RegExp(app.name));
      assert.equal(((await suite.api('GET', '/tenants/settings')).body as { flags?: Record<string, boolean> }).flags?.[FLAG] ?? false, false, 'nothing changes before the confirmation');
      await page.locator('[data-testid="confirm-accept"]').click();
      await waitForAttribute(page, '[data-testid="enforce-toggle"]', 'aria-checked', 'true');
      assert.equal(((await suite.api('GET', '/tenants/settings')).body as { flags: Record<string, boolean> }).flags[FLAG], true);

      assert.equal((await start(false)).status, 403);
      assert.equal((await start(true)).status, 200);
    });

    it('the rollback shown after the change turns enforcement off again', async () => {
      const rollback = page.locator('[data-testid="enforce-rollback"] button');
      await rollback.click();
      await waitForAttribute(page, '[data-testid="enforce-toggle"]', 'aria-checked', 'false');
      assert.equal(((await suite.api('GET', '/tenants/settings')).body as { flags: Record<string, boolean> }).flags[FLAG], false);
      assert.equal((await start(false)).status, 200, 'unauthenticated starts work again (with a depnote)');
    });
  });
}
