import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, adminScreenshot, dashboardMissing, open, settled, startAdminSuite } from '../helpers/admin-dashboard.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { assertAccessible, assertNoHorizontalScroll, submitCode, submitEmail } from '../helpers/hosted-page.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

const WAIT = 20_000;
interface Message { to: string; text?: string; created_at: string }

/**
 * Issue 12, development mode (no SMTP provider): the dashboard's Development outbox lists the
 * messages Sesame "sent", with their codes and clickable links, so nobody reads server logs to sign in.
 */
describe('admin dashboard: development outbox', { skip: browserUnavailable() || dashboardMissing() }, () => {
  let suite: BrowserSuite;

  before(async () => {
    suite = await startAdminSuite('sqlite', { SESAME_SMTP_URL: '' });
  });
  after(async () => suite?.close());

  /** The newest message to `to` in the outbox, through the Management API. */
  async function lastTo(to: string): Promise<Message> {
    for (let i = 0; i < 100; i++) {
      const res = await suite.api('GET', '/sesame/dev-outbox?per_page=50');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const list = (Array.isArray(res.body) ? res.body : (res.body as { messages: Message[] }).messages) as Message[];
      const mine = list.filter((m) => m.to === to).sort((a, b) => b.created_at.localeCompare(a.created_at));
      if (mine[0]) return mine[0];
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no outbox message to ${to}`);
  }

  for (const phone of [false, true]) {
    it(`shows the sign-in code the admin just used ${phone ? 'at 375 px' : 'at desktop size'}`, async () => {
      const ctx = await suite.context({ phone });
      const page = await ctx.newPage();
      await page.goto(`${suite.issuer}admin/`);
      await submitEmail(page, ADMIN);
      const code = extractCode({ text: (await lastTo(ADMIN)).text ?? '' });
      await submitCode(page, code);
      await page.locator('[data-testid="nav-outbox"]').waitFor({ timeout: WAIT });
      await open(page, 'outbox');
      const message = page.locator('[data-testid="dev-outbox-message"]', { hasText: code });
      await message.first().waitFor({ timeout: WAIT });
      assert.match(await message.first().innerText(), new RegExp(ADMIN));
      await settled(page);
      if (phone) await assertNoHorizontalScroll(page);
      await assertAccessible(page, `the development outbox${phone ? ' at 375 px' : ''}`);
      await adminScreenshot(page, 'outbox', phone);
      await ctx.close();
    });
  }
});
