/**
 * The built-in passwordless email, used when a connection has no `options.email.body`, and the
 * HTML-to-text conversion used for the text part of custom bodies. Templates are Liquid over the
 * variables of spec §4; the HTML one is rendered with escaped output.
 */

export const DEFAULT_SUBJECT = {
  code: 'Your {{ application.name }} verification code',
  link: 'Sign in to {{ application.name }}',
} as const;

const MINUTES = '{% if expires_in_minutes == 1 %}minute{% else %}minutes{% endif %}';

// Table layout and inline styles: the only structure mail clients (Outlook, Gmail) render reliably.
// role="presentation" keeps screen readers from announcing layout tables; colours meet WCAG AA.
// The static parts are shared with defaultHtml() below.
const HTML_HEAD = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>`;
const HTML_TITLE_END = `</title></head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background-color:#f4f4f5;padding:24px 12px;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:480px;background-color:#ffffff;border-radius:8px;padding:32px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#18181b;font-size:16px;line-height:24px;">
<tr><td>
<h1 style="margin:0 0 16px;font-size:20px;line-height:28px;">`;
const HTML_TAIL = `
<p style="margin:0;font-size:14px;line-height:20px;color:#52525b;">If you didn't request this, you can ignore this email.</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;

export const DEFAULT_HTML = `${HTML_HEAD}{{ application.name }}${HTML_TITLE_END}{{ application.name }}</h1>
{%- if send == 'code' %}
<p style="margin:0 0 8px;">Your verification code is:</p>
<p style="margin:0 0 16px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Courier New',monospace;font-size:32px;line-height:40px;font-weight:700;letter-spacing:6px;">{{ code }}</p>
{%- else %}
<p style="margin:0 0 16px;">Use the button below to sign in.</p>
<p style="margin:0 0 16px;"><a href="{{ link }}" style="display:inline-block;background-color:#18181b;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 20px;border-radius:6px;">Sign in to {{ application.name }}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:#52525b;word-break:break-all;">Or open this link: <a href="{{ link }}" style="color:#1d4ed8;">{{ link }}</a></p>
{%- endif %}
{%- if expires_in_minutes %}
<p style="margin:0 0 16px;">It expires in {{ expires_in_minutes }} ${MINUTES}.</p>
{%- endif %}${HTML_TAIL}`;

export const DEFAULT_TEXT = `{% if send == 'code' -%}
Your {{ application.name }} verification code is: {{ code }}
{%- else -%}
Sign in to {{ application.name }} with this link:
{{ link }}
{%- endif %}
{% if expires_in_minutes %}
It expires in {{ expires_in_minutes }} ${MINUTES}.
{% endif %}
If you didn't request this, you can ignore this email.
`;

/** The variables the built-in templates read (a subset of EmailVars). */
export interface DefaultEmailVars {
  send: string;
  code?: string | undefined;
  link?: string | undefined;
  application: { name: string };
  expires_in_minutes?: number | undefined;
}

/**
 * The built-in templates above as plain functions: the default email is what nearly every request
 * sends, and liquidjs costs ~70 µs per message where string building costs ~2 µs. Output is
 * byte-identical to rendering the Liquid sources (test/unit/default-email.test.ts compares them), so
 * an edit to one side must be made to the other. `escapeHtml` matches liquidjs's `escape` filter.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
export const escapeHtml = (s: string) => (/[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : s);

// Liquid's rules: only nil and false are falsy (0 is truthy); undefined prints as ''.
const present = (v: unknown) => v !== undefined && v !== null && v !== false;
const str = (v: string | number | undefined) => (v === undefined ? '' : String(v));
const minutes = (n: number | undefined) => (n === 1 ? 'minute' : 'minutes');

export function defaultSubject(v: DefaultEmailVars): string {
  return v.send === 'code' ? `Your ${v.application.name} verification code` : `Sign in to ${v.application.name}`;
}

export function defaultText(v: DefaultEmailVars): string {
  const name = v.application.name;
  const main = v.send === 'code' ? `Your ${name} verification code is: ${str(v.code)}` : `Sign in to ${name} with this link:\n${str(v.link)}`;
  const expiry = present(v.expires_in_minutes) ? `\nIt expires in ${str(v.expires_in_minutes)} ${minutes(v.expires_in_minutes)}.\n` : '';
  return `${main}\n${expiry}\nIf you didn't request this, you can ignore this email.\n`;
}

export function defaultHtml(v: DefaultEmailVars): string {
  const name = escapeHtml(v.application.name);
  let main: string;
  if (v.send === 'code') {
    main = `
<p style="margin:0 0 8px;">Your verification code is:</p>
<p style="margin:0 0 16px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Courier New',monospace;font-size:32px;line-height:40px;font-weight:700;letter-spacing:6px;">${escapeHtml(str(v.code))}</p>`;
  } else {
    const link = escapeHtml(str(v.link));
    main = `
<p style="margin:0 0 16px;">Use the button below to sign in.</p>
<p style="margin:0 0 16px;"><a href="${link}" style="display:inline-block;background-color:#18181b;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 20px;border-radius:6px;">Sign in to ${name}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:#52525b;word-break:break-all;">Or open this link: <a href="${link}" style="color:#1d4ed8;">${link}</a></p>`;
  }
  const expiry = present(v.expires_in_minutes)
    ? `
<p style="margin:0 0 16px;">It expires in ${escapeHtml(str(v.expires_in_minutes))} ${minutes(v.expires_in_minutes)}.</p>`
    : '';
  return `${HTML_HEAD}${name}${HTML_TITLE_END}${name}</h1>${main}${expiry}${HTML_TAIL}`;
}

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', euro: '€',
};

/** Decodes the entities an HTML email realistically holds: the named basics and numeric ones. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]+);/gi, (m, e: string) => {
    if (e[0] !== '#') return NAMED[e] ?? m;
    const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : m;
  });
}

const BLOCK = /<\/?(?:p|div|h[1-6]|tr|table|ul|ol|li|blockquote|pre|section|header|footer|hr)\b[^>]*>/gi;
const LINK = /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi;
const stripTags = (s: string) => s.replace(/<[^>]*>/g, '');

/**
 * A readable plain-text part for a custom HTML body: drops head/style/script, keeps paragraph and
 * line breaks, writes links as "label (url)" so magic links survive, decodes entities once.
 */
export function htmlToText(html: string): string {
  const out = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    // Source line breaks are insignificant in HTML; only tags below make lines.
    .replace(/\s+/g, ' ')
    .replace(LINK, (_m, dq: string | undefined, sq: string | undefined, inner: string) => {
      const href = dq ?? sq ?? '';
      const label = stripTags(inner).trim();
      return label === '' || decodeEntities(label) === decodeEntities(href) ? href : `${label} (${href})`;
    })
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(BLOCK, '\n')
    .replace(/<\/t[dh]\s*>/gi, ' ');
  return decodeEntities(stripTags(out))
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
