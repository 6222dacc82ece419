/**
 * PostgreSQL text cannot hold U+0000 and fails the whole statement. Inputs holding it are refused at
 * the boundary so they are a 400 on both backends rather than a 500 on one.
 *
 * Returns the JSON pointer of the first string (or key) holding U+0000; bodies are small (64 KB limit).
 */
export function nulPath(v: unknown, path = '', depth = 0): string | undefined {
  if (typeof v === 'string') return v.includes('\0') ? path || '/' : undefined;
  if (v === null || typeof v !== 'object' || depth > 64) return undefined;
  for (const [k, child] of Object.entries(v)) {
    const childPath = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (k.includes('\0')) return childPath;
    const found = nulPath(child, childPath, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
