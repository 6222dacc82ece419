import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.ts';
import { badRequest } from '../errors/oauth-error.ts';
import { PageError } from '../errors/page-error.ts';
import { surfaceOf } from '../errors/surface.ts';

/**
 * PostgreSQL text cannot hold U+0000 and fails the whole statement. Inputs holding it are refused at
 * the boundary so they are a 400 on both backends rather than a 500 on one.
 *
 * Returns the JSON pointer of the first string (or key) holding U+0000, at any depth: a walk with its
 * own stack, since a 64 KB body of nested arrays is 32,000 levels deep (too deep for recursion).
 */
export function nulPath(root: unknown): string | undefined {
  // Each entry links to its parent, so a path is spelled out only for the value that holds NUL.
  type Node = { v: unknown; key: string; parent: Node | undefined };
  const pointer = (n: Node | undefined): string => {
    const keys: string[] = [];
    for (let at = n; at?.parent !== undefined; at = at.parent) keys.push(at.key.replace(/~/g, '~0').replace(/\//g, '~1'));
    return keys.length ? `/${keys.reverse().join('/')}` : '/';
  };
  const stack: Node[] = [{ v: root, key: '', parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.v;
    if (typeof v === 'string') {
      if (v.includes('\0')) return pointer(node);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const keys = Object.keys(v);
    // Pushed in reverse so that the first offending field is the one reported.
    for (let i = keys.length - 1; i >= 0; i--) {
      const child: Node = { v: (v as Record<string, unknown>)[keys[i]!], key: keys[i]!, parent: node };
      if (keys[i]!.includes('\0')) return pointer(child);
      stack.push(child);
    }
  }
  return undefined;
}

type Part = 'params' | 'querystring' | 'body';
const MESSAGE = 'Strings must not contain NUL characters';
/** Management API wording, as its schema validator words the same refusal (validation.ts). */
const API = { params: ['Path', 'invalid_uri'], querystring: ['Query', 'invalid_query_string'], body: ['Payload', 'invalid_body'] } as const;

/**
 * Refuses U+0000 on every route, in every position: the path, the query string (decoded), and the
 * parsed body (form or JSON, at any depth), before any handler or schema sees them (issue 11). Each
 * surface gets its own envelope; pages get an HTML page. One exception: /authorize checks its own
 * query, so that once the client and its redirect_uri are known to be good the error goes back to
 * the application (RFC 6749 §4.1.2.1; core/authorize-request.ts).
 */
export function installNulGuard(app: FastifyInstance): void {
  // Callback hooks: they run on every request and must not cost a promise there.
  app.addHook('onRequest', (req, _reply, done) => {
    // Node's HTTP parser refuses a raw NUL in the request line: in a URL it can only be %00.
    if (!req.url.includes('%00')) return done();
    const isAuthorize = req.url.split('?', 1)[0] === '/authorize';
    const inParams = nulPath(req.params);
    if (inParams !== undefined) return done(refusal(req, 'params', inParams));
    const inQuery = isAuthorize ? undefined : nulPath(req.query);
    if (inQuery !== undefined) return done(refusal(req, 'querystring', inQuery));
    // In the path of no route, or where a parser dropped it: still refused.
    if (!isAuthorize || req.url.split('?', 1)[0]!.includes('%00')) return done(refusal(req, 'params', '/'));
    done();
  });
  app.addHook('preValidation', (req, _reply, done) => {
    const at = typeof req.body === 'object' || typeof req.body === 'string' ? nulPath(req.body) : undefined;
    done(at === undefined ? undefined : refusal(req, 'body', at));
  });
}

function refusal(req: FastifyRequest, part: Part, at: string): Error {
  const surface = surfaceOf(req);
  if (surface === 'page') return new PageError(400, 'invalid_characters', `${MESSAGE} (at ${at})`);
  if (surface === 'oauth') return badRequest('invalid_request', `${MESSAGE} (at ${at})`);
  const [prefix, code] = API[part];
  const property = at === '/' ? '' : ` on property ${at.slice(1).replace(/\//g, '.')}`;
  return new ApiError(400, `${prefix} validation error: '${MESSAGE}'${property}.`, code);
}
