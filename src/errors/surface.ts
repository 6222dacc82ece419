import type { FastifyRequest } from 'fastify';

/** Which API surface a request belongs to; each has its own error envelope (STYLE.md §4). */
export type Surface = 'management' | 'page' | 'oauth';

/**
 * Routes a person's browser navigates to: their errors are HTML pages in the page's language, never
 * JSON (issue 11). `/login/status` is polled by script and answers JSON.
 */
const PAGES = new Set(['/authorize', '/login', '/login/email', '/login/phone', '/login/code', '/login/link', '/login/relay', '/passwordless/verify_redirect', '/v2/logout']);

export function surfaceOf(req: FastifyRequest): Surface {
  const path = req.url.split('?', 1)[0]!;
  if (path.startsWith('/api/v2')) return 'management';
  return PAGES.has(path) ? 'page' : 'oauth';
}
