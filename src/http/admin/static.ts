import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import { adminHeaders } from './headers.ts';

/**
 * The dashboard's built files (`npm run build:admin` → admin/dist, or SESAME_ADMIN_DIR), issue 12:
 * - `/admin/assets/*` carry a content hash in their names: cached for a year, immutable;
 * - `index.html` answers `/admin`, `/admin/` and every extension-less `/admin/<route>` (the SPA's
 *   deep links), never cached, so a new build is picked up at the next load;
 * - any other missing file is a 404; no build at all is a 503 page saying how to build it.
 * A small handler rather than @fastify/static: four rules, no directory listing, no new dependency.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sesame Dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>Sesame serves its dashboard from <code>admin/dist</code>, which is missing. Build it with
<code>npm run build:admin</code> (<code>npm install</code> does it too), then reload this page.</p></body></html>
`;

export function registerAdminStatic(app: FastifyInstance, s: Services): void {
  const root = resolve(s.config.adminDir);
  const handler = (req: FastifyRequest, reply: FastifyReply) => serve(root, req, reply);
  app.get('/admin', handler);
  app.get('/admin/*', handler);
}

async function serve(root: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const index = join(root, 'index.html');
  if (!(await isFile(index))) return adminHeaders(reply.code(503), 'no-store').type(TYPES['.html']!).send(NOT_BUILT);

  const rel = relativePath(req.url);
  if (rel === undefined) return notFound(reply);
  if (rel === '' || (!extname(rel) && !rel.startsWith('assets/'))) return sendFile(reply, index, 'no-store');
  const file = resolve(root, rel);
  // Never outside the build folder, whatever the encoding of `..` was.
  if (!file.startsWith(root + sep) || !(await isFile(file))) return notFound(reply);
  return sendFile(reply, file, rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
}

/** The path under /admin/, decoded; undefined if it cannot name a file (bad encoding, NUL, dot segments). */
function relativePath(url: string): string | undefined {
  const path = url.split('?', 1)[0]!.replace(/^\/admin\/?/, '');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((seg) => seg === '..' || seg === '.')) return undefined;
  return decoded.replace(/\/+$/, '');
}

function sendFile(reply: FastifyReply, file: string, cacheControl: string): FastifyReply {
  return adminHeaders(reply, cacheControl).type(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream').send(createReadStream(file));
}

function notFound(reply: FastifyReply): FastifyReply {
  return adminHeaders(reply.code(404), 'no-store').type('text/plain; charset=utf-8').send('Not found\n');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
