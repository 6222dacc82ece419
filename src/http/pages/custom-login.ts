import type { FastifyReply } from 'fastify';
import type { Client, TenantSettings } from '../../core/model.ts';
import type { Services } from '../../services.ts';
import { tenantName } from '../auth/lock-scripts.ts';
import type { LoginContext } from './login-transaction.ts';

/** Auth0's classic custom login page fields, on a client (Auth0: the tenant's global client) or the tenant. */
interface CustomPageFields {
  custom_login_page_on?: unknown;
  custom_login_page?: unknown;
}

const pageOf = (f: CustomPageFields): string | undefined =>
  f.custom_login_page_on === true && typeof f.custom_login_page === 'string' && f.custom_login_page.trim() !== '' ? f.custom_login_page : undefined;

/**
 * The custom login page (Auth0 classic, migration guide case 2) that replaces the hosted page for
 * this client: the client's own when it turned one on, else the tenant's, else none.
 */
export function customLoginHtml(client: Client, tenant: TenantSettings): string | undefined {
  return pageOf(client as CustomPageFields) ?? pageOf(tenant as CustomPageFields);
}

/**
 * The `config` object a custom page reads, in Auth0's shape. `internalOptions` is what its Lock or
 * auth0-js forwards on every call (spec §2.1): `state` is the transaction's token, which
 * authenticates /passwordless/start for a confidential client, and `_csrf` the page's CSRF token.
 * Assets and client configuration are served by Sesame itself (no third-party CDN).
 */
export function customLoginConfig(s: Services, ctx: LoginContext): Record<string, unknown> {
  const p = ctx.tx.params;
  const issuer = s.issuer;
  const host = new URL(issuer).host;
  const defined = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const colors = ctx.chrome.branding.colors;
  return {
    clientID: ctx.client.client_id,
    auth0Domain: host,
    // The name /client/{id}.js gives Lock, so the page and Lock agree on it.
    auth0Tenant: ctx.client.tenant ?? tenantName(s),
    callbackURL: p.redirect_uri,
    callbackOnLocationHash: p.response_type !== 'code',
    cdn: issuer,
    assetsUrl: issuer,
    clientConfigurationBaseUrl: issuer,
    authorizationServer: { url: issuer.replace(/\/$/, ''), issuer },
    isThirdPartyClient: !ctx.client.is_first_party,
    dict: { signin: { title: ctx.chrome.tenantName } },
    icon: ctx.chrome.branding.logo_url ?? '',
    ...(colors ? { colors: { ...colors } } : {}),
    connection: p.connection ?? '',
    prompt: p.prompt ?? '',
    // Auth0's templates read login_hint (prefill) and ui_locales (language) from here.
    extraParams: defined({ login_hint: p.login_hint, ui_locales: p.ui_locales }),
    internalOptions: defined({
      state: ctx.state,
      _csrf: ctx.tx.csrf,
      scope: p.scope,
      response_type: p.response_type,
      response_mode: p.response_mode,
      nonce: p.nonce,
      audience: p.audience,
      protocol: 'oauth2',
      client_id: p.client_id,
      redirect_uri: p.redirect_uri,
      code_challenge: p.code_challenge,
      code_challenge_method: p.code_challenge_method,
    }),
  };
}

/**
 * Serves the custom page with `@@config@@` replaced by the base64 of the config's UTF-8 JSON
 * (Auth0's templates decode it with `JSON.parse(decodeURIComponent(escape(window.atob('@@config@@'))))`).
 *
 * No script or style policy: the page is the tenant's own HTML, written by an administrator, and
 * typically loads Lock or auth0-js from a CDN with inline setup code, which our nonce-based policy
 * would block. What stays is what protects the sign-in itself: no framing (clickjacking), no
 * caching, and no Referer, so the transaction's `state` in the URL never reaches the CDN.
 */
export function sendCustomLoginPage(s: Services, reply: FastifyReply, ctx: LoginContext, html: string): FastifyReply {
  const config = Buffer.from(JSON.stringify(customLoginConfig(s, ctx)), 'utf8').toString('base64');
  return reply
    .header('content-security-policy', "frame-ancestors 'none'")
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html.split('@@config@@').join(config));
}
