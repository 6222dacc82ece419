import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';
import { OAuthError } from './oauth-error.ts';
import { PageError } from './page-error.ts';
import { renderErrorPage } from '../http/pages/error-page.ts';

const isManagement = (req: FastifyRequest) => req.url.startsWith('/api/v2');

/** The only place errors become HTTP responses (STYLE.md §4): one envelope per API surface. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((req, reply) => {
    if (isManagement(req)) return reply.code(404).send(new ApiError(404, 'Not Found').toJSON());
    return sendOAuth(reply, new OAuthError(404, 'not_found', `${req.method} ${req.url.split('?')[0]} is not an endpoint`));
  });
}

/** Also Fastify's `frameworkErrors` hook (malformed URLs), so those get the same envelopes. */
export function sendError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof PageError) {
    return reply.code(err.status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderErrorPage(err, req));
  }
  if (err instanceof OAuthError) return sendOAuth(reply, err);
  if (err instanceof ApiError) return reply.code(err.statusCode).send(err.toJSON());

  // Fastify's own client errors: schema validation, bad JSON, wrong content type, huge bodies.
  const fe = err as FastifyError;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const message = fe.validation ? `${fe.validationContext ?? 'body'}${fe.message.replace(/^(body|querystring|params|headers)/, '')}` : fe.message;
    if (isManagement(req)) {
      const code = fe.validationContext === 'querystring' ? 'invalid_query_string' : status === 415 ? 'unsupported_media_type' : 'invalid_body';
      return reply.code(status).send(new ApiError(status, message, code).toJSON());
    }
    return sendOAuth(reply, new OAuthError(status, status === 413 ? 'request_too_large' : 'invalid_request', message));
  }

  // Anything else is ours: never leak internals (STYLE.md §4, `expose`).
  req.log.error({ err }, 'unhandled error');
  if (isManagement(req)) return reply.code(500).send(new ApiError(500, 'Internal Server Error').toJSON());
  return sendOAuth(reply, new OAuthError(500, 'server_error', 'Internal Server Error'));
}

function sendOAuth(reply: FastifyReply, err: OAuthError) {
  if (err.headers) reply.headers(err.headers);
  // RFC 6749 §5.1: token-related responses must not be cached.
  reply.header('cache-control', 'no-store');
  return reply.code(err.status).send({ error: err.error, error_description: err.error_description, ...err.extra });
}
