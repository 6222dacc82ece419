// The Auth0 queries the Logs and Users pages send, built from what the admin typed and clicked.
// Pure functions (no React, no DOM), unit-tested in test/unit/admin-queries.test.ts.

/** Logs: what was typed, AND the type chips (`type:(a OR b)`), AND the date range (`date:[from TO to]`). */
export function logsQuery(q: string, types: string[], from: string, to: string): string {
  const parts: string[] = [];
  const typed = q.trim();
  if (typed) parts.push(types.length || from || to ? `(${typed})` : typed);
  if (types.length) parts.push(`type:(${types.join(' OR ')})`);
  if (from || to) parts.push(`date:[${from || '*'} TO ${to || '*'}]`);
  return parts.join(' AND ');
}

/**
 * Users: an email or a phone number as typed → Sesame's user query (`email:"…"` or
 * `phone_number:"+…"`, spaces and brackets dropped from a number); a trailing `*` searches by prefix.
 */
export function usersQuery(typed: string): string | undefined {
  const v = typed.trim();
  if (!v) return undefined;
  const phone = /^[+\d][\d\s().-]*\*?$/.test(v);
  const value = phone ? v.replace(/[\s().-]/g, '') : v;
  const field = phone ? 'phone_number' : 'email';
  return value.endsWith('*') ? `${field}:${value}` : `${field}:"${value.replace(/(["\\])/g, '\\$1')}"`;
}
