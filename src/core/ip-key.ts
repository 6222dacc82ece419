import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 client it wraps. */
function unmapped(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** The eight 16-bit groups of an IPv6 address, zero-padded, lower case (no embedded IPv4 tail). */
function ipv6Groups(ip: string): string[] {
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.map((g) => g.padStart(4, '0'));
}

/**
 * Who a per-IP limit counts (issue 10 §2): an IPv4 address as itself, an IPv6 client by its /64.
 * A /64 is the smallest prefix a network hands one subscriber (RFC 6177 §3, RFC 7421), and SLAAC
 * lets its holder use any of its 2^64 addresses; counting each address alone would hand one
 * attacker unlimited budgets. Every per-IP limit and brute-force pair goes through this one helper.
 */
export function ipKey(ip: string): string {
  const v4 = unmapped(ip);
  if (isIPv4(v4)) return v4;
  if (!isIPv6(ip) || ip.includes('.')) return ip; // an IPv6 with an embedded IPv4 tail other than ::ffff: is rare enough to count alone
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/**
 * The network an address belongs to for SMS `per_ip_range`: IPv4 /24, IPv6 /48 (one site's
 * allocation, RFC 6177). IPv4-mapped IPv6 counts as IPv4.
 */
export function ipRange(ip: string): string {
  const v4 = unmapped(ip);
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip) || ip.includes('.')) return ip;
  return `${ipv6Groups(ip).slice(0, 3).join(':')}::/48`;
}
