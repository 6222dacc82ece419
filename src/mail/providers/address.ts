/** A rendered From split into its display name and address (`Name <addr@host>` or `addr@host`). */
export interface Mailbox {
  name?: string;
  address: string;
}

export function parseMailbox(from: string): Mailbox {
  const m = /^(.*)<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  if (!m) return { address: from.trim() };
  const name = m[1]!.trim().replace(/^"(.*)"$/, '$1');
  return name ? { name, address: m[2]! } : { address: m[2]! };
}

/**
 * `Name <addr>` as RFC 5322 writes it: a name with specials is a quoted string. With `encodeWords`
 * a non-ASCII name becomes an RFC 2047 encoded word, which SES requires ("If the name contains
 * non-ASCII characters, it must be encoded using MIME encoded-word syntax").
 */
export function formatMailbox(b: Mailbox, encodeWords = false): string {
  if (!b.name) return b.address;
  if (encodeWords && /[^ -~]/.test(b.name)) return `=?UTF-8?B?${Buffer.from(b.name, 'utf8').toString('base64')}?= <${b.address}>`;
  const name = /[()<>[\]:;@\\,."]/.test(b.name) ? `"${b.name.replace(/(["\\])/g, '\\$1')}"` : b.name;
  return `${name} <${b.address}>`;
}
