import type { Client } from './model.ts';

/**
 * Matching a browser's `Origin` against a client's Allowed Origins (CORS) and Allowed Web Origins.
 * Entries match exactly (scheme, host, port), except Auth0's subdomain wildcards
 * (https://auth0.com/docs/get-started/applications/wildcards-for-subdomains): http(s) only, one
 * `*`, in the left-most label, under at least two more labels (`https://*.com` never matches),
 * optionally with a prefix and suffix (`https://pr-*-preview.example.com`), and standing for
 * exactly ONE label: `https://*.example.com` matches neither `https://example.com` nor
 * `https://a.b.example.com`. Paths, query strings and fragments of an entry are ignored, as Auth0
 * documents. IPv6 literal hosts are not supported.
 */
export type OriginPattern = { kind: 'exact'; origin: string } | { kind: 'wildcard'; re: RegExp };

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };
const ENTRY = /^(https?):\/\/([^/?#@\s]+)(?:[/?#].*)?$/i;
const HOST_PORT = /^([^:]+)(?::(\d{1,5}))?$/;
const LABEL = /^[a-z0-9-]+$/;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `scheme://host[:port]` in the form a browser sends: lower case, default port dropped. */
function normal(scheme: string, host: string, port: string | undefined): string {
  const p = port !== undefined && port !== DEFAULT_PORT[`${scheme}:`] ? `:${port}` : '';
  return `${scheme}://${host}${p}`;
}

/** Compiles one configured entry; undefined for entries that can never match (other schemes, bad wildcards). */
export function compileOrigin(entry: string): OriginPattern | undefined {
  const m = ENTRY.exec(entry.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const hp = HOST_PORT.exec(m[2]!.toLowerCase());
  if (!hp) return undefined;
  const host = hp[1]!;
  const port = hp[2];
  if (!host.includes('*')) return { kind: 'exact', origin: normal(scheme, host, port) };

  const [first, ...rest] = host.split('.');
  // One wildcard, in the left-most label, under a registrable-looking domain (not `*.com`).
  if (host.indexOf('*') !== host.lastIndexOf('*') || !first!.includes('*') || rest.length < 2) return undefined;
  if (rest.some((l) => !LABEL.test(l))) return undefined;
  const [prefix, suffix] = first!.split('*') as [string, string];
  if (!/^[a-z0-9-]*$/.test(prefix) || !/^[a-z0-9-]*$/.test(suffix)) return undefined;
  const portPart = port !== undefined && port !== DEFAULT_PORT[`${scheme}:`] ? `:${port}` : '';
  const re = new RegExp(`^${scheme}://${escape(prefix)}[a-z0-9-]+${escape(suffix)}\\.${escape(rest.join('.'))}${escape(portPart)}$`);
  return { kind: 'wildcard', re };
}

export function compileOrigins(entries: Iterable<string>): OriginPattern[] {
  const out: OriginPattern[] = [];
  for (const e of entries) {
    const p = typeof e === 'string' ? compileOrigin(e) : undefined;
    if (p) out.push(p);
  }
  return out;
}

/** The Origin header's value normalised, or undefined when it is not an http(s) origin (`null`, junk). */
export function normaliseOrigin(origin: string): string | undefined {
  if (origin.length > 300) return undefined;
  const m = ENTRY.exec(origin);
  if (!m || origin.length !== `${m[1]}://${m[2]}`.length) return undefined;
  const hp = HOST_PORT.exec(m[2]!.toLowerCase());
  if (!hp || hp[1]!.includes('*')) return undefined;
  return normal(m[1]!.toLowerCase(), hp[1]!, hp[2]);
}

export function matchesAny(patterns: readonly OriginPattern[], origin: string): boolean {
  return patterns.some((p) => (p.kind === 'exact' ? p.origin === origin : p.re.test(origin)));
}

/** A client's configured origins: Allowed Origins (CORS) ∪ Allowed Web Origins, as Auth0 checks them. */
export const clientOrigins = (c: Pick<Client, 'allowed_origins' | 'web_origins'>): string[] => [...(c.allowed_origins ?? []), ...(c.web_origins ?? [])];

/** Whether `origin` (already normalised) may call on behalf of this client. Patterns are cached per client object. */
export function clientAllowsOrigin(c: Pick<Client, 'allowed_origins' | 'web_origins'>, origin: string): boolean {
  let patterns = compiled.get(c);
  if (!patterns) {
    patterns = compileOrigins(clientOrigins(c));
    compiled.set(c, patterns);
  }
  return matchesAny(patterns, origin);
}

// The store hands out one frozen object per cached client row, so this is compiled once per version.
const compiled = new WeakMap<object, OriginPattern[]>();
