import { isIP } from 'node:net';

/**
 * `SESAME_TRUST_PROXY`, in the forms Fastify's `trustProxy` takes (proxy-addr underneath): which
 * peers may speak for the client through `X-Forwarded-For`, `-Proto` and `-Host`. Off by default:
 * then request.ip is the socket's and a spoofed header changes nothing.
 */
export type TrustProxy = boolean | number | readonly string[];

/** proxy-addr's named ranges (127.0.0.0/8 + ::1, 169.254.0.0/16 + fe80::/10, RFC 1918 + fc00::/7). */
const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function validCidr(entry: string): boolean {
  if (NAMES.has(entry)) return true;
  const [addr = '', prefix, extra] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const n = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && n <= (family === 4 ? 32 : 128);
}

/**
 * `false`/`0`/unset: trust nobody. A positive integer: trust that many hops from the socket (each
 * load balancer in front appends one address). `true`: trust every hop (only when nothing but the
 * proxy can reach Sesame). Anything else: a comma-separated list of addresses, CIDRs or the names
 * above. Returns the value or an error message.
 */
export function parseTrustProxy(raw: string | undefined): { value: TrustProxy } | { error: string } {
  if (raw === undefined || raw === 'false' || raw === '0') return { value: false };
  if (raw === 'true') return { value: true };
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    return hops <= 100 ? { value: hops } : { error: `SESAME_TRUST_PROXY hop count must be at most 100 (got "${raw}")` };
  }
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const bad = entries.filter((e) => !validCidr(e));
  if (entries.length === 0 || bad.length > 0) {
    return { error: `SESAME_TRUST_PROXY must be false, true, a hop count, or a comma-separated list of IPs/CIDRs (e.g. 10.0.0.0/8,::1) or loopback/linklocal/uniquelocal (bad: "${bad.join('", "') || raw}")` };
  }
  return { value: Object.freeze(entries) };
}

/**
 * The value for Fastify's `trustProxy`. A hop count becomes a function trusting the `hops` nearest
 * addresses (proxy-addr's meaning, as in Express): Fastify 5.12 reads a bare number as "trust
 * nobody", since a count cannot tell the proxy from a client that reaches Sesame directly. So a
 * count is only for deployments where nothing but the proxy can reach Sesame; a CIDR list is safer.
 */
export function fastifyTrustProxy(value: TrustProxy): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof value === 'number') return value === 0 ? false : (_addr: string, hop: number) => hop < value;
  return typeof value === 'boolean' ? value : [...value];
}
