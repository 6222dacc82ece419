import type { FastifyReply } from 'fastify';

/**
 * Every /admin response (issue 12, "Quality"): no inline script at all; `style-src` allows inline
 * styles only because the dashboard's dialog library (Radix) injects a `<style>` element for its
 * scroll lock. The dashboard talks to its own origin only; it cannot be framed.
 */
export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data: https:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function adminHeaders(reply: FastifyReply, cacheControl: string): FastifyReply {
  return reply
    .header('content-security-policy', ADMIN_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cacheControl);
}
