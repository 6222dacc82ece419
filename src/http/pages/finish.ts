import type { FastifyReply } from 'fastify';
import { type TransactionDoc, TTL } from '../../core/artifacts.ts';
import { authorizationSuccess, createSession, signInUser } from '../../core/authorize.ts';
import type { RequestContext } from '../../core/logs.ts';
import type { Client, Connection } from '../../core/model.ts';
import type { Services } from '../../services.ts';
import { sendAuthorizationResponse } from '../auth/authorization-response.ts';
import { COOKIE, cookieOptions } from '../cookies.ts';

/**
 * The end of every browser sign-in that went through a transaction (a code on the hosted page, a
 * magic link, a relay code): sign the user in, open the login session (cookie), mark the
 * transaction completed so a waiting tab can tell, and answer the application in its response
 * mode. Throws AuthorizeError (blocked user, refused sign-up) for the caller to send back.
 */
export async function finishSignIn(
  s: Services,
  reply: FastifyReply,
  /** `txId` is the transaction's artifact id: `artifactId(s, 'transaction', state)`. */
  f: { txId: string; tx: TransactionDoc; client: Client; connection: Connection; identifier: string; ctx: RequestContext },
): Promise<FastifyReply> {
  const signedIn = await signInUser(s, f.client, f.connection, f.identifier, f.ctx);
  const session = await createSession(s, signedIn);
  reply.setCookie(COOKIE.session, session.token, cookieOptions(s, TTL.session));
  // A transaction completes once: the state no longer authenticates starts, the waiting tab sees it.
  await s.store.updateArtifact('transaction', f.txId, { ...f.tx, completed_at: s.now() }, s.now());
  const response = await authorizationSuccess(s, f.tx.params, f.client, { user: signedIn.user, connection: f.connection.name, authTime: signedIn.authTime }, session.sid);
  return sendAuthorizationResponse(reply, response);
}
