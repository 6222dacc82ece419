import type { FastifyInstance } from 'fastify';
import { TOO_MANY_ATTEMPTS, tooManyAttempts } from '../../core/brute-force.ts';
import { makeLog, passwordlessFields } from '../../core/logs.ts';
import { OTP_ERRORS, checkCode } from '../../core/otp.ts';
import { passwordlessIdentifier } from '../../core/users.ts';
import { OAuthError, badRequest, invalidClient } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';
import { requestContext } from '../request-context.ts';

/**
 * Statuses and codes from ERR-VERIFY (auth0/docs `errors/_passwordless-verify.md`): a wrong
 * credential is `401 invalid_user_password`, an unknown client `403 unauthorized_client "invalid
 * client"`. The descriptions are the passwordless ones of /oauth/token (spec §3.3), which the login
 * pages show as they are.
 */
const { exhausted: EXHAUSTED, expired: EXPIRED } = OTP_ERRORS;
const wrongCredentials = (description: string) => new OAuthError(401, 'invalid_user_password', description);

/**
 * POST /passwordless/verify (spec §3.4): what auth0-js's `passwordlessVerify` sends from a login page
 * on Sesame's host (`{connection, verification_code, email|phone_number, client_id}`) before it sends
 * the browser to /passwordless/verify_redirect with the same code. So the code is CHECKED here, not
 * consumed: the attempt counts, a right code keeps its budget, and verify_redirect completes.
 */
export function registerPasswordlessVerify(app: FastifyInstance, s: Services): void {
  app.post('/passwordless/verify', async (req) => {
    const b = (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : undefined) as Record<string, unknown> | undefined;
    if (!b) throw badRequest('invalid_request', 'The request body must be a JSON object.');
    const clientId = param(b, 'client_id', 128);
    const connectionName = param(b, 'connection', 128);
    const code = param(b, 'verification_code', 128);

    const found = await s.store.getClient(clientId);
    if (!found) throw invalidClient();
    const { client } = found;
    const connection = await s.store.getConnectionByName(connectionName);
    if (!connection || (connection.strategy !== 'email' && connection.strategy !== 'sms')) throw badRequest('invalid_request', 'the connection was not found');
    if (!(await s.store.isConnectionEnabled(connection.id, client.client_id))) throw badRequest('invalid_request', 'the connection was disabled');
    // auth0-js sends `email` or `phone_number` by the connection's channel (AJS `verify`).
    const sms = connection.strategy === 'sms';
    const typed = param(b, sms ? 'phone_number' : 'email', 320);
    const WRONG = OTP_ERRORS.wrong[sms ? 'sms' : 'email'];

    const ctx = requestContext(req);
    const identifier = passwordlessIdentifier(connection, typed);
    if (identifier === undefined) throw wrongCredentials(WRONG);
    const checked = await checkCode(s, { connection_id: connection.id, identifier, client_id: client.client_id }, code, { ctx, client, connection });
    if (!checked.ok) {
      // Brute-force protection (spec §7, BFP) refused the guess before the code was looked at: 429.
      const blocked = checked.reason === 'blocked';
      const description = blocked ? TOO_MANY_ATTEMPTS : checked.reason === 'expired' ? EXPIRED : checked.reason === 'exhausted' ? EXHAUSTED : WRONG;
      const oauthError = blocked ? 'too_many_attempts' : 'invalid_user_password';
      await s.store.appendLogs([makeLog('f', ctx, { ...passwordlessFields(client, connection), user_name: identifier, description, details: { error: { message: description, oauthError } } }, s.now())]);
      throw blocked ? tooManyAttempts(checked.retryAt, s.now()) : wrongCredentials(description);
    }
    // Only after the code is proven, so the answer reveals nothing about accounts to a guesser.
    const user = sms ? await s.store.findUserByPhone(connection.name, identifier) : await s.store.findUserByEmail(connection.name, identifier);
    if (user?.blocked) throw new OAuthError(401, 'unauthorized', 'user is blocked');
    return {};
  });
}

/** A required string parameter, with ERR-VERIFY's wording when it is missing. */
function param(b: Record<string, unknown>, name: string, max: number): string {
  const v = b[name];
  if (v === undefined || v === null || v === '') throw badRequest('invalid_request', `missing ${name} parameter`);
  if (typeof v !== 'string') throw badRequest('invalid_request', `${name} parameter must be a string`);
  if (v.length > max) throw badRequest('invalid_request', `${name} parameter is too long`);
  return v;
}
