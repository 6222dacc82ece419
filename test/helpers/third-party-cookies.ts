import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.ts';

/**
 * A Chromium profile that accepts third-party cookies, as Chrome's regular windows do by default.
 * Debian's Chromium blocks them by default (and every Playwright context is an incognito-like
 * profile, where Chrome blocks them too), so the cookie that /co/authenticate sets from another
 * site, and the session cookie in auth0-spa-js's prompt=none iframe, never travel there. Only a
 * persistent profile whose preferences say `cookie_controls_mode: 0` (allow) lets them; it is its
 * own browser process, started per call and deleted on close.
 */
export async function thirdPartyCookieContext(opts: { locale?: string } = {}): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-chromium-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ignoreHTTPSErrors: true, locale: opts.locale ?? 'en-US', viewport: { width: 1280, height: 800 },
  });
  // Chromium may still be flushing the profile when the context reports closed: retry, and sweep at exit.
  const remove = () => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch {
      // left for the exit sweep
    }
  };
  ctx.on('close', remove);
  process.once('exit', remove);
  return ctx;
}
