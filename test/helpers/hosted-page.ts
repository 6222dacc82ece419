import { join } from 'node:path';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describePage } from './browser-suite.ts';

/**
 * Steps on Sesame's hosted login page through its stable markup (issue 3 §2):
 * `[data-testid=email|phone-input|code|submit|relay-code|relay-input]`, `name="send"` choice, `role="alert"`.
 */

const NAV_TIMEOUT = 15_000;

/** Waits for the email form; fails with what the browser shows instead. */
export async function expectEmailForm(page: Page): Promise<void> {
  await page.locator('[data-testid="email"]').waitFor({ timeout: NAV_TIMEOUT }).catch(async () => {
    assert.fail(`expected the hosted page's email form, got:\n${await describePage(page)}`);
  });
}

export async function submitEmail(page: Page, email: string, send?: 'code' | 'link'): Promise<void> {
  await expectEmailForm(page);
  await page.locator('[data-testid="email"]').fill(email);
  // With authentication_method `both` the form offers the choice; otherwise it is fixed by the connection.
  if (send) {
    const choice = page.locator(`input[type="radio"][name="send"][value="${send}"]`);
    if (await choice.count()) await choice.check();
  }
  await page.locator('form:has([data-testid="email"]) [data-testid="submit"]').click();
}

/** Waits for the phone-number form of an sms connection; fails with what the browser shows instead. */
export async function expectPhoneForm(page: Page): Promise<void> {
  await page.locator('[data-testid="phone-input"]').waitFor({ timeout: NAV_TIMEOUT }).catch(async () => {
    assert.fail(`expected the hosted page's phone form, got:\n${await describePage(page)}`);
  });
}

/** Types the number as a person would (spaces and all) and submits the phone form. */
export async function submitPhone(page: Page, phone: string): Promise<void> {
  await expectPhoneForm(page);
  await page.locator('[data-testid="phone-input"]').fill(phone);
  await page.locator('form:has([data-testid="phone-input"]) [data-testid="submit"]').click();
}

export async function expectCodeForm(page: Page): Promise<void> {
  await page.locator('[data-testid="code"]').waitFor({ timeout: NAV_TIMEOUT }).catch(async () => {
    assert.fail(`expected the code form, got:\n${await describePage(page)}`);
  });
}

export async function submitCode(page: Page, code: string): Promise<void> {
  await expectCodeForm(page);
  await page.locator('[data-testid="code"]').fill(code);
  await page.locator('form:has([data-testid="code"]) [data-testid="submit"]').click();
}

/** "Check your inbox" after a link was sent: the page with the relay input. */
export async function expectLinkSent(page: Page): Promise<void> {
  await page.locator('[data-testid="relay-input"]').waitFor({ timeout: NAV_TIMEOUT }).catch(async () => {
    assert.fail(`expected the "check your inbox" page, got:\n${await describePage(page)}`);
  });
}

/** The web app's callback page (test/helpers/web-app.ts) after a verified sign-in. */
export async function expectSignedIn(page: Page, email: string): Promise<Record<string, unknown>> {
  return expectSignedInAs(page, { email });
}

/** The web app's callback page after a verified sign-in whose ID token carries these claims (e.g. `phone_number`). */
export async function expectSignedInAs(page: Page, expected: Record<string, unknown>): Promise<Record<string, unknown>> {
  await page.locator('[data-testid="signed-in"], [data-testid="error"]').first().waitFor({ timeout: NAV_TIMEOUT }).catch(async () => {
    assert.fail(`expected the app's callback, got:\n${await describePage(page)}`);
  });
  const error = page.locator('[data-testid="error"]');
  if (await error.count()) assert.fail(`the app's callback failed: ${await error.innerText()} (${page.url()})`);
  const claims = JSON.parse(await page.locator('[data-testid="claims"]').innerText()) as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected)) assert.equal(claims[k], v, `claim ${k}`);
  return claims;
}

/** Runs `action` (which makes the page navigate) and waits until the URL matches. */
export async function navigation(page: Page, until: (url: URL) => boolean, action: () => Promise<unknown>, what: string): Promise<void> {
  await Promise.all([
    page.waitForURL(until, { timeout: NAV_TIMEOUT }).catch(async () => assert.fail(`${what}: the browser did not arrive; it shows:\n${await describePage(page)}`)),
    action(),
  ]);
}

/** Responsive at phone size (issue 3 §2): nothing wider than the 375 px viewport. */
export async function assertNoHorizontalScroll(page: Page, width = 375): Promise<void> {
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  assert.ok(scrollWidth <= width, `page is ${scrollWidth}px wide at a ${width}px viewport: ${page.url()}`);
}

const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }

/**
 * axe-core in the page (issue 3 §2: no serious/critical violations). The source is evaluated
 * through DevTools rather than a <script> tag, which the page's strict CSP would rightly refuse.
 */
let axeSource: string | undefined;

export async function assertAccessible(page: Page, label: string): Promise<void> {
  axeSource ??= `${readFileSync(AXE, 'utf8')}\n;0`;
  await page.evaluate(axeSource);
  const violations = await page.evaluate<AxeViolation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)');
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
    [],
    `axe-core on ${label} (${page.url()})`,
  );
}

/**
 * `npm run screenshots` (SESAME_SCREENSHOTS=1) refreshes the README's `docs/screenshots/`; a plain
 * test run still renders every screenshot, into a temporary directory, so that `npm test` never
 * rewrites tracked files.
 */
const SHOTS = process.env.SESAME_SCREENSHOTS === '1'
  ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
  : `${join(tmpdir(), 'sesame-screenshots')}/`;

/** `<dir>/<name>-<phone|desktop>.png` (deterministic names). */
export async function screenshot(page: Page, name: 'email' | 'code' | 'link-sent' | 'error' | 'other-device' | 'sms-number' | 'sms-code' | 'long-address', phone: boolean): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}-${phone ? 'phone' : 'desktop'}.png`, fullPage: true, animations: 'disabled', caret: 'hide' });
}
