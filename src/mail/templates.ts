import { Liquid, type Template } from 'liquidjs';
import { DEFAULT_HTML, DEFAULT_SUBJECT, DEFAULT_TEXT, defaultHtml, defaultSubject, defaultText, htmlToText } from './default-email.ts';

/** A connection's `options.email` (spec §4): every field may be a Liquid template. */
export interface EmailOptions {
  from?: string;
  subject?: string;
  body?: string;
  syntax?: string;
}

/** Liquid variables of the passwordless email (spec §4, LIQUID/PL-EMAIL), plus `email` and `connection.name`. */
export interface EmailVars {
  code?: string;
  link?: string;
  send: 'code' | 'link' | 'link_ios' | 'link_android';
  application: { name: string };
  request_language?: string;
  operation?: null;
  email: string;
  connection: { name: string };
  expires_in_minutes?: number;
}

export interface RenderedEmail {
  from: string;
  subject: string;
  html: string;
  text: string;
}

type Field = 'from' | 'subject' | 'body' | 'syntax';

/** A connection's email template cannot be used; the Management API and `/passwordless/start` answer 400. */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_ERROR';
  readonly field: Field;
  constructor(field: Field, message: string, options?: ErrorOptions) {
    super(`email.${field}: ${message}`, options);
    this.name = 'TemplateError';
    this.field = field;
  }
}

const CACHE_SIZE = 256;

const liquid = (escape: boolean) =>
  new Liquid({
    // An empty in-memory file system: `{% include %}`/`{% render %}` must never read the server's
    // disk (the data directory holds the database and the generated secret).
    templates: {},
    // Templates come from administrators, but a typo like `(1..100000000)` must not stall the
    // request path; these bounds are far above what an email needs.
    parseLimit: 200_000,
    renderLimit: 1_000,
    memoryLimit: 10_000_000,
    ...(escape ? { outputEscape: 'escape' as const } : {}),
  });

/**
 * Parses and renders email templates. Parsing dominates the cost, so parsed templates are kept in a
 * bounded LRU keyed by source: a connection's template is parsed once, not on every request.
 * HTML bodies and plain fields need two Liquid instances because liquidjs applies `outputEscape`
 * when it parses an output tag, not when it renders it.
 */
export class TemplateEngine {
  readonly #html = liquid(true);
  readonly #plain = liquid(false);
  readonly #cache = new Map<string, Template[]>();

  /** Parses (or takes from the cache) one field's template; throws TemplateError. */
  parse(field: Field, source: string, html = field === 'body'): Template[] {
    const key = `${html ? 'h' : 'p'}\0${source}`;
    const hit = this.#cache.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    let parsed: Template[];
    try {
      parsed = (html ? this.#html : this.#plain).parse(source);
    } catch (err) {
      throw new TemplateError(field, `invalid Liquid: ${(err as Error).message}`, { cause: err });
    }
    if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, parsed);
    return parsed;
  }

  /** Renders with HTML-escaped output for `body` (unless `html` is false), verbatim for the rest. */
  async render(field: Field, source: string, scope: object, html = field === 'body'): Promise<string> {
    const tpl = this.parse(field, source, html);
    try {
      return String(await (html ? this.#html : this.#plain).render(tpl, scope));
    } catch (err) {
      throw new TemplateError(field, `cannot be rendered: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** One engine per process: its cache is what makes rendering per request cheap. */
export function createTemplateEngine(): TemplateEngine {
  return new TemplateEngine();
}

/** Checks the shape and parses (without rendering) a connection's `options.email`; throws TemplateError. */
export function validateEmailTemplate(opts: EmailOptions | undefined, engine: TemplateEngine = sharedEngine()): void {
  if (opts === undefined) return;
  if (opts.syntax !== undefined && opts.syntax !== 'liquid') throw new TemplateError('syntax', 'must be "liquid"');
  for (const field of ['from', 'subject', 'body'] as const) {
    const v: unknown = opts[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new TemplateError(field, 'must be a string');
    engine.parse(field, v);
  }
}

let shared: TemplateEngine | undefined;
const sharedEngine = () => (shared ??= new TemplateEngine());

// From and Subject are headers: one line, whatever a template produces.
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * Renders the passwordless email. The connection's `from`/`subject`/`body` win when set; otherwise
 * the built-in template. Throws TemplateError when a connection template cannot be used.
 */
export async function renderEmail(
  engine: TemplateEngine,
  opts: EmailOptions | undefined,
  vars: EmailVars,
  defaultFrom: string,
): Promise<RenderedEmail> {
  const scope = { ...vars, operation: vars.operation ?? null };
  const kind = vars.send === 'code' ? 'code' : 'link';
  // Built-in fields take the precompiled path (default-email.ts) unless a value has a type the
  // functions do not handle the way Liquid would; then Liquid renders them, as before.
  const fast = plainVars(vars);
  const [fromRaw, subject, html] = await Promise.all([
    opts?.from ? engine.render('from', opts.from, scope) : '',
    opts?.subject ? engine.render('subject', opts.subject, scope) : fast ? defaultSubject(vars) : engine.render('subject', DEFAULT_SUBJECT[kind], scope),
    opts?.body ? engine.render('body', opts.body, scope) : fast ? defaultHtml(vars) : engine.render('body', DEFAULT_HTML, scope),
  ]);
  const text = opts?.body ? htmlToText(html) : fast ? defaultText(vars) : await engine.render('body', DEFAULT_TEXT, scope, false);
  let from = oneLine(fromRaw);
  // Auth0's sample template sends "from" root@auth0.com, which Auth0 itself replaces (spec §4,
  // PL-EMAIL); relaying it through the tenant's SMTP would spoof auth0.com and fail DMARC.
  if (from === '' || /@auth0\.com>?$/i.test(from)) from = defaultFrom;
  return { from, subject: oneLine(subject), html, text };
}

const optString = (v: unknown) => v === undefined || typeof v === 'string';
const plainVars = (v: EmailVars) =>
  typeof v.application?.name === 'string' && optString(v.code) && optString(v.link) &&
  (v.expires_in_minutes === undefined || typeof v.expires_in_minutes === 'number');
