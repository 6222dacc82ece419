import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN, dashboardMissing, go, open, signIn, signInAdmin, startAdminSuite, waitForAttribute } from '../helpers/admin-dashboard.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

const WAIT = 20_000;
// PostgreSQL when it answers (always in CI), as magic-links.test.ts does: the migration story runs on both.
const backend = (await backendMatrix()).some((b) => b.backend === 'postgres' && !b.skip) ? 'postgres' : 'sqlite';

/**
 * Issue 12 through the dashboard: create an application, rotate its secret and use the new one;
 * change a connection's code length and see it in the next mail; block a user and see start send
 * nothing; a non-administrator is refused by the UI and by the API.
 */
describe(`admin dashboard: applications, connections, users, non-admins [${backend}]`, { skip: browserUnavailable() || dashboardMissing() }, () => {
  let suite: BrowserSuite;
  let ctx: BrowserContext;
  let page: Page;
  let app: { client_id: string; secret: string };

  before(async () => {
    suite = await startAdminSuite(backend);
    ctx = await suite.context();
    page = await ctx.newPage();
    await signInAdmin(suite, page);
  });
  after(async () => suite?.close());

  const start = (email: string, secret = app.secret) =>
    suite.fetch(`${suite.issuer}passwordless/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: app.client_id, client_secret: secret, connection: 'email', email, send: 'code' }),
    });

  it('creates an application, rotates its secret (shown once) and the new secret works with /passwordless/start', async () => {
    await open(page, 'applications');
    await page.locator('[data-testid="app-create"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Invoices');
    await dialog.getByText('Regular web application (confidential)').click();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL((u) => /^\/admin\/applications\/[^/]+$/.test(u.pathname), { timeout: WAIT });
    const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    // Enable the email connection and the OTP grant for it, then save.
    await page.getByLabel('email (email)').check();
    await page.getByLabel('http://auth0.com/oauth/grant-type/passwordless/otp').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor({ timeout: WAIT });

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.locator('[data-testid="confirm-dialog"]').waitFor();
    await page.locator('[data-testid="confirm-accept"]').click();
    const secret = (await page.locator('[data-testid="secret-value"]').innerText({ timeout: WAIT })).trim();
    assert.match(secret, /^\S{32,}$/);
    app = { client_id: clientId, secret };

    const email = uniqueEmail('rotated');
    const res = await start(email);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(extractCode(await suite.mailTo(email)), /^\d{6}$/);
    assert.equal((await start(uniqueEmail('wrong'), `${secret}x`)).status, 401, 'a wrong secret is refused');

    await page.getByRole('button', { name: 'Done' }).click();
    await open(page, 'applications');
    await page.locator('[data-testid="app-row"]', { hasText: 'Invoices' }).waitFor({ timeout: WAIT });
  });

  it("changes the email connection's code length and the next mail has the longer code", async () => {
    await open(page, 'connections');
    await page.getByRole('link', { name: 'email', exact: true }).click();
    const length = page.locator('[data-testid="code-length"]');
    await length.fill('8');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor({ timeout: WAIT });
    const email = uniqueEmail('eight');
    assert.equal((await start(email)).status, 200);
    assert.match(extractCode(await suite.mailTo(email)), /^\d{8}$/);
    // The template's live preview is rendered by the server from the unsaved fields; "send me a test"
    // mails the signed-in admin the saved template.
    await page.getByLabel('Subject (Liquid)').fill('Code for {{ application.name }}');
    const preview = page.locator('.preview');
    await preview.getByText(/^Code for /).waitFor({ timeout: WAIT });
    await preview.getByRole('button', { name: 'Send me a test' }).click();
    await preview.getByText(`Test message sent to ${ADMIN}.`).waitFor({ timeout: WAIT });
    assert.match((await suite.mailTo(ADMIN)).subject, /^\[Test\] /);
    // Back to six for the sign-ins below (and to prove the field writes both ways).
    await length.fill('6');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor({ timeout: WAIT });
  });

  it('finds a user by email, blocks them, and start then sends them nothing', async () => {
    const email = uniqueEmail('blockme');
    const made = await suite.api('POST', '/users', { email, connection: 'email', email_verified: true });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await open(page, 'users');
    await page.getByPlaceholder('Email or phone number').fill(email);
    await page.getByPlaceholder('Email or phone number').press('Enter');
    const row = page.locator('[data-testid="user-row"]', { hasText: email });
    await row.waitFor({ timeout: WAIT });
    assert.equal(await page.locator('[data-testid="user-row"]').count(), 1);
    await row.getByRole('link').click();
    await page.locator('[data-testid="user-block"]').click();
    await waitForAttribute(page, '[data-testid="user-block"]', 'aria-pressed', 'true');

    const before = suite.sink.messages.length;
    assert.equal((await start(email)).status, 200, 'start answers as usual');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(suite.sink.messages.filter((m) => m.to === email).length, 0, 'no message for a blocked user');
    assert.equal(suite.sink.messages.length, before);

    // The user's page lists the refused start among their recent logs (GET /users/{id}/logs).
    const path = new URL(page.url()).pathname.replace(/^\/admin\//, '');
    await open(page, 'users');
    await go(page, path);
    await page.getByText('user is blocked').first().waitFor({ timeout: WAIT });
  });

  it('a non-administrator sees the not-admin page and gets no Management access', async () => {
    const other = await suite.context();
    const p = await other.newPage();
    const email = uniqueEmail('notadmin');
    await signIn(suite, p, email);
    const refused = p.locator('[data-testid="not-admin"]');
    await refused.waitFor({ timeout: WAIT });
    assert.match(await refused.innerText(), /You are not an administrator of this Sesame/);
    assert.equal(await p.locator('[data-testid="nav-logs"]').count(), 0);

    // By the API: the OTP grant refuses the Management audience to a non-admin, and a user token for
    // another audience is refused by /api/v2.
    const code = async () => {
      assert.equal((await start(email)).status, 200);
      return extractCode(await suite.mailTo(email));
    };
    const token = (otp: string, audience?: string) =>
      suite.fetch(`${suite.issuer}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp', client_id: app.client_id, client_secret: app.secret,
          realm: 'email', username: email, otp, scope: 'openid', ...(audience ? { audience } : {}),
        }),
      });
    const mgmt = await token(await code(), `${suite.issuer}api/v2/`);
    const refusedBody = (await mgmt.json()) as { access_token?: string; error?: string };
    assert.ok(mgmt.status >= 400 && !refusedBody.access_token, `the Management audience was not refused: ${mgmt.status} ${JSON.stringify(refusedBody)}`);
    const plain = (await (await token(await code())).json()) as { access_token: string };
    const api = await suite.fetch(`${suite.issuer}api/v2/users`, { headers: { authorization: `Bearer ${plain.access_token}` } });
    assert.ok(api.status === 401 || api.status === 403, `the API answered ${api.status}`);

    await p.locator('[data-testid="sign-out"]').click();
    await p.waitForURL((u) => u.pathname === '/admin/', { timeout: WAIT });
    await p.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT });
    await other.close();
  });
});
