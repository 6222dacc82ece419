import type { FastifyRequest } from 'fastify';
import { type RequestContext, decodeTelemetry } from '../core/logs.ts';

/** What logs need to know about the caller; the IP is the socket's (see passwordless-start for auth0-forwarded-for). */
export function requestContext(req: FastifyRequest): RequestContext {
  const ua = req.headers['user-agent'];
  const tel = req.headers['auth0-client'];
  return {
    ip: req.ip,
    user_agent: typeof ua === 'string' ? ua.slice(0, 512) : undefined,
    hostname: req.hostname,
    auth0_client: decodeTelemetry(typeof tel === 'string' ? tel : undefined),
  };
}
