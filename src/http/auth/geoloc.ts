import type { FastifyInstance } from 'fastify';

/**
 * GET /user/geoloc/country: auth0-js `getUserCountry`, which Lock's phone-number field calls to
 * preselect the dialling code (auth0-lock 14.3.0 `connection/passwordless/index.js`; auth0-js
 * camel-cases the body and Lock reads `countryCode`, falling back to US when it is missing or
 * unknown). Auth0 answers from GeoIP; Sesame has no GeoIP database and looks nothing up outside, so
 * the answer is the region of the browser's preferred `Accept-Language` tag that has one
 * (`fr-CH` → `CH`), else `null`: a hint for a form field, never used for any decision.
 */
export function registerGeoloc(app: FastifyInstance): void {
  app.get('/user/geoloc/country', async (req, reply) => {
    reply.header('cache-control', 'private, no-store').header('vary', 'Accept-Language, Origin');
    return { country_code: regionOf(req.headers['accept-language']) };
  });
}

/** The ISO 3166-1 alpha-2 region of the highest-weighted language tag that has one (RFC 9110 §12.5.4, BCP 47). */
export function regionOf(header: string | undefined): string | null {
  if (!header || header.length > 1024) return null;
  const tags = header
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/i.exec(p)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, i };
    })
    .filter((t) => t.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of tags) {
    // language[-script]-REGION…: the first two-letter subtag after the language.
    const region = tag.split('-').slice(1).find((sub) => /^[A-Za-z]{2}$/.test(sub));
    if (region) return region.toUpperCase();
  }
  return null;
}
