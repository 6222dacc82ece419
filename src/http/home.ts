import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { VERSION } from '../version.ts';
import { escapeHtml } from './pages/html.ts';

/** The admin dashboard's built files (its own top-level folder and build, STYLE.md §11); from src/ and dist/ alike. */
const DASHBOARD = new URL('../../admin/dist/index.html', import.meta.url);

/**
 * `GET /`: a small page for a person who opens the server in a browser (issue 11): what it is, its
 * version and issuer, and where to go next. Machines have discovery; this is not an API.
 */
export function registerHome(app: FastifyInstance, s: Services): void {
  app.get('/', async (_req, reply) => {
    const links: Array<[string, string, string]> = [
      ['/.well-known/openid-configuration', 'OpenID discovery', 'endpoints, for SDKs and libraries'],
      ['/health', 'Health check', '200 when the database answers'],
      ['/api/v2/openapi.json', 'OpenAPI document', 'the Management and Authentication APIs'],
    ];
    // Checked per request: the dashboard may be built while the server runs.
    if (existsSync(DASHBOARD)) links.unshift(['/admin', 'Dashboard', 'manage applications, connections and users']);
    const items = links.map(([href, label, what]) => `<li><a href="${href}">${label}</a> — ${what}</li>`).join('\n');
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sesame ${escapeHtml(VERSION)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Sesame ${escapeHtml(VERSION)}</h1>
<p>An Auth0-compatible passwordless authentication server. Issuer: <code>${escapeHtml(s.issuer)}</code></p>
<ul>
${items}
</ul>
</body></html>
`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .send(html);
  });
}
