import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { AuthMethod } from '../core/client-auth.ts';
import { type Client, isConfidential } from '../core/model.ts';

/**
 * The IP every limit and log counts a call against. `auth0-forwarded-for` names the end user only
 * when a confidential client authenticated and trusts the header ("Trust Token Endpoint IP Header",
 * `is_token_endpoint_ip_header_trusted`; spec §1.1, PL-API): a backend relaying its users' starts
 * and code exchanges then gets each user counted apart. Otherwise anyone could pick the IP they are
 * limited on, so the header is ignored and the request's own IP counts (the socket's, or the client
 * a trusted proxy names: SESAME_TRUST_PROXY).
 */
export function endUserIp(client: Client, method: AuthMethod | null, req: FastifyRequest): string {
  if (method === null || !isConfidential(client) || !client.is_token_endpoint_ip_header_trusted) return req.ip;
  const header = req.headers['auth0-forwarded-for'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  return first && isIP(first) ? first : req.ip;
}
