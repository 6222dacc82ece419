import type { Locale } from './i18n.ts';
import { escapeHtml } from './html.ts';

/** `/api/v2/branding` (Auth0's shape): what the hosted pages show. */
export interface Branding {
  logo_url?: string;
  favicon_url?: string;
  colors?: { primary?: string; page_background?: string };
}

export const BRANDING_SETTING = 'branding';

export interface PageInput {
  lang: Locale;
  title: string;
  /** Trusted HTML of the page's main content (every value inside already escaped). */
  body: string;
  branding: Branding;
  /** The tenant's friendly_name, shown above the content. */
  tenantName: string;
  /** Inline script (trusted, no user data unescaped); the CSP allows it by nonce. */
  script?: string;
  nonce: string;
}

const HEX = /^#[0-9a-fA-F]{3,8}$/;

/**
 * The one layout of every hosted page: server-rendered, no external assets, responsive from 320 px,
 * readable at 200% zoom. Colours come from branding only when they are plain hex colours.
 */
export function renderPage(p: PageInput): string {
  const primary = p.branding.colors?.primary && HEX.test(p.branding.colors.primary) ? p.branding.colors.primary : '#1d4ed8';
  const background = p.branding.colors?.page_background && HEX.test(p.branding.colors.page_background) ? p.branding.colors.page_background : '#f4f4f5';
  // The tenant's name is printed right under the logo, so the logo is decorative (alt=""): a logo
  // that cannot load shows nothing, instead of its alt text repeating the name (WCAG H67).
  const logo = p.branding.logo_url && /^https?:\/\//.test(p.branding.logo_url)
    ? `<img class="logo" src="${escapeHtml(p.branding.logo_url)}" alt="">` : '';
  return `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(p.title)} · ${escapeHtml(p.tenantName)}</title>
<style nonce="${p.nonce}">
:root{--primary:${primary};--bg:${background}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:var(--bg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#18181b}
main{width:100%;max-width:400px;margin:48px 16px;background:#fff;border-radius:12px;padding:32px 24px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.logo{display:block;max-width:100%;max-height:52px;margin:0 auto 16px}
.tenant{text-align:center;font-size:.9rem;color:#52525b;margin:0 0 8px}
h1{font-size:1.5rem;line-height:1.3;margin:0 0 16px;text-align:center}
h2{font-size:1.1rem;line-height:1.4;margin:24px 0 8px;padding-top:16px;border-top:1px solid #e4e4e7}
form{margin:0 0 12px}
p{margin:0 0 16px}
label{display:block;font-weight:600;margin:0 0 6px}
input[type=email],input[type=tel],input[type=text],input[type=search],input:not([type]),select{width:100%;font-size:1rem;padding:12px;border:1px solid #71717a;border-radius:6px;margin:0 0 16px}
select{background:#fff;color:inherit}
#country-filter{margin:0 0 8px}
.preview{margin:-8px 0 16px;font-weight:600;overflow-wrap:anywhere}
input:focus,select:focus,button:focus,a:focus{outline:3px solid var(--primary);outline-offset:2px}
button{width:100%;font-size:1rem;font-weight:600;padding:12px;border:0;border-radius:6px;background:var(--primary);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#18181b;border:1px solid #71717a;margin-top:12px}
fieldset{border:0;padding:0;margin:0 0 16px}
legend{font-weight:600;margin:0 0 6px}
.choice{display:flex;gap:10px;align-items:center;margin:0 0 8px}
.choice label{margin:0;font-weight:400}
input[type=radio]{accent-color:var(--primary);width:1.15em;height:1.15em;margin:0;flex:none}
.address,.address strong span{display:inline-block;max-width:100%;overflow-wrap:anywhere}
.alert{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:6px;padding:12px;margin:0 0 16px}
.notice{background:#f0fdf4;color:#166534;border:1px solid #bbf7d0;border-radius:6px;padding:12px;margin:0 0 16px}
.relay{font:700 2rem/1.2 ui-monospace,monospace;letter-spacing:.15em;text-align:center;margin:0 0 16px}
.muted{color:#52525b;font-size:.9rem}
.hint{margin:-2px 0 6px}
a{color:var(--primary)}
</style>
</head>
<body>
<main>
${logo}<p class="tenant">${escapeHtml(p.tenantName)}</p>
${p.body}
</main>
${p.script ? `<script nonce="${p.nonce}">${p.script}</script>` : ''}
</body>
</html>`;
}

/** A strict CSP for the hosted pages: nothing but our own inline blocks (by nonce), images over https, forms to anywhere (form_post). */
export function pageCsp(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src https: data:; connect-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'`;
}
