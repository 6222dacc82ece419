import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyDbError, describeDbError } from '../store/db-errors.ts';
import { ApiError } from './api-error.ts';
import { OAuthError } from './oauth-error.ts';
import { PageError } from './page-error.ts';
import { surfaceOf } from './surface.ts';
import { ServiceUnavailable } from './unavailable.ts';
import { renderErrorPage } from '../http/pages/error-page.ts';

const GENERIC_500 = 'Internal Server Error';

/** The only place errors become HTTP responses (STYLE.md §4): one envelope per API surface. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((req, reply) => {
    if (surfaceOf(req) === 'management') return reply.code(404).send(new ApiError(404, 'Not Found').toJSON());
    return sendOAuth(reply, new OAuthError(404, 'not_found', `${req.method} ${req.url.split('?')[0]} is not an endpoint`));
  });
}

/** Also Fastify's `frameworkErrors` hook (malformed URLs), so those get the same envelopes. */
export function sendError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof PageError) return sendPage(req, reply, err);
  if (err instanceof OAuthError) return sendOAuth(reply, err);
  if (err instanceof ApiError) return reply.code(err.statusCode).send(err.toJSON());

  // A database error never shows its text (it quotes SQL and input): a lost connection is a 503 the
  // client may retry, anything else a generic 500 (issue 11).
  const db = err instanceof ServiceUnavailable ? 'unavailable' : classifyDbError(err);
  if (db === 'unavailable') {
    req.log.warn({ err: describeDbError(err instanceof ServiceUnavailable ? err.cause : err) }, 'database unavailable; answered 503');
    return sendUnavailable(req, reply, err instanceof ServiceUnavailable ? err : new ServiceUnavailable(err));
  }

  // Fastify's own client errors: schema validation, bad JSON, wrong content type, huge bodies.
  const fe = err as FastifyError;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (db === undefined && status >= 400 && status < 500) {
    lingerOnSmallBody(req, reply);
    const message = fe.validation ? `${fe.validationContext ?? 'body'}${fe.message.replace(/^(body|querystring|params|headers)/, '')}` : fe.message;
    const surface = surfaceOf(req);
    if (surface === 'management') {
      const code = fe.validationContext === 'querystring' ? 'invalid_query_string' : status === 415 ? 'unsupported_media_type' : 'invalid_body';
      return reply.code(status).send(new ApiError(status, message, code).toJSON());
    }
    const code = status === 413 ? 'request_too_large' : 'invalid_request';
    if (surface === 'page') return sendPage(req, reply, new PageError(status, code, message));
    return sendOAuth(reply, new OAuthError(status, code, message));
  }

  // Anything else is ours: never leak internals (STYLE.md §4, `expose`).
  // The request goes with it, to find the cause; app.ts censors its credentials, cookies, query and
  // body (codes, secrets), and the path is logged without its query string.
  const request = { method: req.method, url: req.url.split('?', 1)[0], headers: req.headers, query: req.query, body: req.body };
  // (`request`, not `req`: Fastify's `req` serializer would keep only the method and URL.)
  if (db) req.log.error({ err: describeDbError(err), request }, 'database error');
  else req.log.error({ err, request }, 'unhandled error');
  const surface = surfaceOf(req);
  if (surface === 'management') return reply.code(500).send(new ApiError(500, GENERIC_500).toJSON());
  if (surface === 'page') return sendPage(req, reply, new PageError(500, 'server_error', GENERIC_500));
  return sendOAuth(reply, new OAuthError(500, 'server_error', GENERIC_500));
}

function sendUnavailable(req: FastifyRequest, reply: FastifyReply, err: ServiceUnavailable) {
  reply.header('retry-after', String(err.retryAfter));
  const surface = surfaceOf(req);
  if (surface === 'management') return reply.code(503).send(new ApiError(503, err.message).toJSON());
  if (surface === 'page') return sendPage(req, reply, new PageError(503, 'temporarily_unavailable', err.message));
  // RFC 6749 §4.1.2.1 names `temporarily_unavailable` for this.
  return sendOAuth(reply, new OAuthError(503, 'temporarily_unavailable', err.message));
}

function sendPage(req: FastifyRequest, reply: FastifyReply, err: PageError) {
  return reply.code(err.status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderErrorPage(err, req));
}

function sendOAuth(reply: FastifyReply, err: OAuthError) {
  if (err.headers) reply.headers(err.headers);
  // RFC 6749 §5.1: token-related responses must not be cached.
  reply.header('cache-control', 'no-store');
  return reply.code(err.status).send({ error: err.error, error_description: err.error_description, ...err.extra });
}

/** Bodies up to this size are read and dropped after an early error answer rather than cut off. */
const LINGER_MAX_BYTES = 1024 * 1024;

/**
 * Fastify answers a body it refuses (too large, unparsable) with `Connection: close`, so as not to
 * read what the client still sends. But closing a socket with unread input makes the kernel send a
 * reset, which can destroy the answer before the client reads it: the client sees "other side
 * closed" instead of its 413 (seen under load in the fuzz test: a 70 KB body against the 64 KB
 * limit). For a declared body of at most 1 MiB, Node reads and drops the rest and keeps the
 * connection instead (nginx's lingering close, bounded); larger or unsized bodies are still cut off.
 */
function lingerOnSmallBody(req: FastifyRequest, reply: FastifyReply): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared <= LINGER_MAX_BYTES && String(reply.getHeader('connection')).toLowerCase() === 'close') reply.removeHeader('connection');
}
