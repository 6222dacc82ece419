import type { CookieSerializeOptions } from '@fastify/cookie';
import type { Services } from '../services.ts';

/** Cookie names: one place, so every surface agrees. */
export const COOKIE = {
  /** The login session (prompt=none, SSO, logout). */
  session: 'sesame_session',
  /** Random per browser, set by /authorize: its keyed hash binds a transaction (and its magic link) to this browser. */
  browser: 'sesame_browser',
  /** Per cross-origin login (spec §3.6): `sesame_co_<co_id>` holds the co_verifier. */
  coPrefix: 'sesame_co_',
} as const;

/**
 * HttpOnly always. On https the cookies are `SameSite=None; Secure`, because they must travel in
 * cross-site contexts: the prompt=none iframe of an SPA on another site, and the cross-origin login
 * whose cookie is set by a CORS call (spec §3.6). On plain http (development) browsers refuse
 * `SameSite=None` without `Secure`, so they are `Lax`: top-level navigations still carry them.
 */
export function cookieOptions(s: Services, maxAgeMs?: number): CookieSerializeOptions {
  const secure = s.issuer.startsWith('https://');
  return {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: secure ? 'none' : 'lax',
    ...(maxAgeMs !== undefined ? { maxAge: Math.floor(maxAgeMs / 1000) } : {}),
  };
}
