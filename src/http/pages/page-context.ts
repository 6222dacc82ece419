import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import { type Locale, LOCALES, enabledLocales } from './i18n.ts';
import { BRANDING_SETTING, type Branding, pageCsp, renderPage } from './layout.ts';

/** What every hosted page shows around its content: the tenant's branding and name. */
export interface Chrome {
  branding: Branding;
  tenantName: string;
  /** The tenant's `enabled_locales` (the first is its default): the languages pages may speak. */
  locales: readonly Locale[];
}

const DEFAULT_CHROME: Chrome = { branding: {}, tenantName: 'Sesame', locales: LOCALES };

/**
 * The last chrome read per server. The error page is rendered synchronously by the one error
 * handler and cannot read the store; it shows the chrome the pages last read (cosmetic only: a
 * change made through another process shows on its error pages after their next page view).
 */
const lastChrome = new WeakMap<Services, Chrome>();

export async function loadChrome(s: Services): Promise<Chrome> {
  const [branding, tenant] = await Promise.all([s.store.getSetting<Branding>(BRANDING_SETTING), s.store.getTenantSettings()]);
  const chrome: Chrome = { branding: branding ?? {}, tenantName: tenant.friendly_name || DEFAULT_CHROME.tenantName, locales: enabledLocales(tenant.enabled_locales) };
  lastChrome.set(s, chrome);
  return chrome;
}

export const cachedChrome = (s: Services | undefined): Chrome => (s && lastChrome.get(s)) || DEFAULT_CHROME;

/**
 * The language and chrome a page handler settled on, so that a PageError it throws afterwards is
 * rendered in the same language (ui_locales of the transaction) and branding.
 */
const remembered = new WeakMap<FastifyRequest, { lang: Locale; chrome: Chrome }>();
export const rememberPage = (req: FastifyRequest, ctx: { lang: Locale; chrome: Chrome }) => void remembered.set(req, ctx);
export const rememberedPage = (req: FastifyRequest) => remembered.get(req);

/** 128 random bits per response (CSP Level 3 §6.7.1.1 asks for at least 128). */
export const newNonce = (): string => randomBytes(16).toString('base64');

export interface PageContent {
  lang: Locale;
  chrome: Chrome;
  title: string;
  body: string;
  script?: string;
}

/**
 * Sends a hosted page: fresh nonce, strict CSP, never cached (the URL and forms carry the
 * transaction), never framed (clickjacking), no referrer (the URL holds the transaction's state).
 */
export function sendPage(reply: FastifyReply, status: number, p: PageContent): FastifyReply {
  const nonce = newNonce();
  const html = renderPage({ lang: p.lang, title: p.title, body: p.body, branding: p.chrome.branding, tenantName: p.chrome.tenantName, nonce, ...(p.script ? { script: p.script } : {}) });
  return reply
    .code(status)
    .header('content-security-policy', pageCsp(nonce))
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}
