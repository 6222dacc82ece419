import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it. */
export const CHROMIUM = process.env.SESAME_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The machine has no outside network: these flags stop Chromium's own background traffic
 * (component updates, first-run fetches) which the closed network would refuse, many at a time.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/**
 * Why browser tests cannot run here, or undefined. On a laptop without Chromium they skip loudly; in
 * CI (`CI=true`) a missing browser is a failure, never a skip.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${why}: browser tests must run in CI`);
  console.warn(`\n*** SKIPPING browser tests: ${why} ***\n`);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh profile (its own cookies and storage): "another browser" is another context. */
export async function newContext(browser: Browser, opts: { phone?: boolean; locale?: string; javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    locale: opts.locale ?? 'en-US',
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    ...(opts.phone ? { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : { viewport: { width: 1280, height: 800 } }),
  });
}
