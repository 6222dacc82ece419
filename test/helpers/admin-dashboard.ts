import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Backend } from './backends.ts';
import { type BrowserSuite, describePage, startBrowserSuite } from './browser-suite.ts';
import { submitCode, submitEmail } from './hosted-page.ts';
import { extractCode } from './smtp-sink.ts';

/**
 * The admin dashboard (issue 12) in Chromium: Sesame serves admin/dist at /admin, and an
 * administrator signs in to it through the hosted login page like any SPA.
 */
export const ADMIN = 'admin@example.com';
const DIST = fileURLToPath(new URL('../../admin/dist/index.html', import.meta.url));
const WAIT = 20_000;

/** Why the dashboard tests cannot run: admin/dist is built by `npm install` (prepare) or `npm run build:admin`. */
export function dashboardMissing(): string | undefined {
  if (existsSync(DIST)) return undefined;
  const why = 'admin/dist is not built (npm run build:admin)';
  if (process.env.CI === 'true') throw new Error(`${why}: the dashboard tests must run in CI`);
  console.warn(`\n*** SKIPPING dashboard tests: ${why} ***\n`);
  return why;
}

export function startAdminSuite(backend: Backend = 'sqlite', env: Record<string, string> = {}): Promise<BrowserSuite> {
  return startBrowserSuite({ backend, env: { SESAME_ADMIN_EMAILS: ADMIN, ...env } });
}

/** Opens /admin/<path>: the dashboard sends the browser to the hosted login page; the code comes by mail. */
export async function signIn(suite: BrowserSuite, page: Page, email = ADMIN, path = ''): Promise<void> {
  await page.goto(`${suite.issuer}admin/${path}`);
  await submitEmail(page, email);
  await submitCode(page, extractCode(await suite.mailTo(email)));
}

/** Signs in and waits for the dashboard's navigation. */
export async function signInAdmin(suite: BrowserSuite, page: Page, path = ''): Promise<void> {
  await signIn(suite, page, ADMIN, path);
  await page.locator('[data-testid="nav-activity"]').waitFor({ timeout: WAIT }).catch(async () => {
    assert.fail(`expected the dashboard after signing in, got:\n${await describePage(page)}`);
  });
}

/** Goes to a page through its navigation link and waits for its heading. */
export async function open(page: Page, nav: string): Promise<void> {
  await page.locator(`[data-testid="nav-${nav}"]`).click();
  await page.waitForURL((u) => u.pathname.startsWith(`/admin/${nav}`), { timeout: WAIT });
  await page.locator('main h1').first().waitFor({ timeout: WAIT });
}

/**
 * Moves the signed-in dashboard to /admin/<path> as a link would (history + popstate): a reload would
 * drop the tokens, which live in memory only, and sign in again.
 */
export async function go(page: Page, path: string): Promise<void> {
  await page.evaluate(`history.pushState(null, '', ${JSON.stringify(`/admin/${path}`)}); dispatchEvent(new PopStateEvent('popstate'))`);
  await page.waitForURL((u) => `${u.pathname}${u.search}` === `/admin/${path}`, { timeout: WAIT });
}

/** Presses Tab until `selector` has the focus (keyboard-only use); fails after `max` presses. */
export async function tabTo(page: Page, selector: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) === true`)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${selector} never took the focus after ${max} Tab presses on ${page.url()}`);
}

/**
 * Polls a JavaScript expression until it is true. page.evaluate runs it through DevTools; Playwright's
 * waitForFunction would evaluate a string inside the page, which the dashboard's CSP (no
 * 'unsafe-eval') rightly refuses.
 */
export async function waitUntil(page: Page, expression: string, what = expression): Promise<void> {
  const end = Date.now() + WAIT;
  while (!(await page.evaluate<boolean>(expression))) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what} on ${page.url()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until no "Loading…" status is left on the page. */
export function settled(page: Page): Promise<void> {
  return waitUntil(page, `!document.querySelector('[role="status"][aria-live="polite"]')`, 'the page to finish loading');
}

/** Waits until the element's attribute has this value (e.g. a switch's aria-checked). */
export function waitForAttribute(page: Page, selector: string, name: string, value: string): Promise<void> {
  return waitUntil(page, `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) === ${JSON.stringify(value)}`, `${selector} ${name}=${value}`);
}

const SHOTS = process.env.SESAME_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : `${join(tmpdir(), 'sesame-screenshots')}/`;

/** `docs/screenshots/admin-<name>-<phone|desktop>.png` under `npm run screenshots`, a temporary directory otherwise. */
export async function adminScreenshot(page: Page, name: string, phone: boolean): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}admin-${name}-${phone ? 'phone' : 'desktop'}.png`, fullPage: true, animations: 'disabled', caret: 'hide' });
}
