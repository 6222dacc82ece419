import { badRequest } from '../errors/oauth-error.ts';

/**
 * One string parameter of a token request (JSON or form). Missing, non-string (a number or an
 * array in JSON, a repeated form field) and oversized values are malformed requests: 400
 * `invalid_request` (RFC 6749 §5.2), checked before any store work.
 */
export function stringParam(body: Record<string, unknown>, name: string, max: number, required: true): string;
export function stringParam(body: Record<string, unknown>, name: string, max: number, required: false): string | undefined;
export function stringParam(body: Record<string, unknown>, name: string, max: number, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw badRequest('invalid_request', `Missing required parameter: ${name}`);
    return undefined;
  }
  if (typeof v !== 'string') throw badRequest('invalid_request', `Invalid parameter: ${name} must be a string`);
  if (v.length > max) throw badRequest('invalid_request', `Invalid parameter: ${name} is too long`);
  return v;
}
