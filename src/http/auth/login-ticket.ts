import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthorizeParams, TTL } from '../../core/artifacts.ts';
import { AuthorizeError, authorizationSuccess, createSession, errorResponse } from '../../core/authorize.ts';
import { TicketError, redeemLoginTicket } from '../../core/login-ticket.ts';
import { makeLog } from '../../core/logs.ts';
import type { Client } from '../../core/model.ts';
import type { Services } from '../../services.ts';
import { COOKIE, cookieOptions } from '../cookies.ts';
import { requestContext } from '../request-context.ts';
import { sendAuthorizationResponse } from './authorization-response.ts';
import { CO_COOKIE } from './co-authenticate.ts';

/**
 * GET /authorize?login_ticket=… (spec §3.6): the second half of a cross-origin login. The request
 * was validated by parseAuthorize like any other, so every failure goes back to the application's
 * redirect_uri as `error=access_denied` with a description, never a hang: in particular when the
 * browser blocked the verifier cookie (third-party cookies), which is the common real-world failure.
 * Success opens the login session and answers as any sign-in does.
 */
export async function redeemAtAuthorize(
  s: Services,
  req: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  params: AuthorizeParams,
  ticket: unknown,
): Promise<FastifyReply> {
  try {
    if (typeof ticket !== 'string') throw new TicketError('access_denied', 'Invalid or expired login ticket. Please sign in again.', false);
    const doc = await redeemLoginTicket(s, ticket, client, (coId) => req.cookies[`${COOKIE.coPrefix}${coId}`]).catch((err: unknown) => {
      // The verifier has done its job (or failed it): the cookie goes either way.
      if (err instanceof TicketError && err.doc) reply.clearCookie(`${COOKIE.coPrefix}${err.doc.co_id}`, CO_COOKIE);
      throw err;
    });
    reply.clearCookie(`${COOKIE.coPrefix}${doc.co_id}`, CO_COOKIE);

    const [user, connection] = await Promise.all([s.store.getUser(doc.user_id), s.store.getConnectionByName(doc.connection)]);
    if (!user || !connection) throw new AuthorizeError('access_denied', 'The user of this login ticket no longer exists.');
    if (user.blocked) throw new AuthorizeError('access_denied', 'user is blocked');
    const session = await createSession(s, { user, connection, authTime: doc.auth_time });
    reply.setCookie(COOKIE.session, session.token, cookieOptions(s, TTL.session));
    const response = await authorizationSuccess(s, params, client, { user, connection: connection.name, authTime: doc.auth_time }, session.sid);
    return sendAuthorizationResponse(reply, response);
  } catch (err) {
    if (!(err instanceof AuthorizeError)) throw err;
    // A real ticket that failed (no cookie, wrong browser) is worth an `f` log: it is how an admin
    // learns that users' browsers block third-party cookies. Made-up tickets are not logged (flood).
    if (err instanceof TicketError && err.ticketWasLive && err.doc) {
      await s.store.appendLogs([
        makeLog('f', requestContext(req), {
          client_id: client.client_id,
          client_name: client.name,
          connection: err.doc.connection,
          user_id: err.doc.user_id,
          description: err.error_description,
          details: { error: { message: err.error_description, oauthError: err.error } },
        }, s.now()),
      ]);
    }
    return sendAuthorizationResponse(reply, errorResponse(params, err));
  }
}
