import type { Services } from '../services.ts';
import { type LoginTicketDoc, TTL, artifactId, newToken } from './artifacts.ts';
import { AuthorizeError, type SignedIn } from './authorize.ts';
import { randomId } from './crypto.ts';
import type { Client } from './model.ts';

/**
 * Cross-origin login (spec §3.6). /co/authenticate proves the code and hands back a login ticket
 * plus a verifier; the verifier also goes into a `SameSite=None` cookie on Sesame's origin. When the
 * browser comes to /authorize with the ticket, the cookie proves that it is the browser that called
 * /co/authenticate: a ticket leaked through a URL (history, Referer, logs) is useless elsewhere.
 */
const VERIFIER_PURPOSE = 'co_verifier';

export interface IssuedTicket {
  login_ticket: string;
  co_verifier: string;
  co_id: string;
}

/** Stores the ticket under a keyed hash, with a keyed hash of the verifier (never either value). */
export async function issueLoginTicket(s: Services, client: Client, signedIn: SignedIn): Promise<IssuedTicket> {
  const ticket: IssuedTicket = { login_ticket: newToken(), co_verifier: newToken(), co_id: randomId(32) };
  const doc: LoginTicketDoc = {
    client_id: client.client_id,
    user_id: signedIn.user.user_id,
    connection: signedIn.connection.name,
    auth_time: signedIn.authTime,
    co_id: ticket.co_id,
    verifier_hash: s.keyring.hash(VERIFIER_PURPOSE, ticket.co_verifier),
  };
  await s.store.putArtifact({ kind: 'login_ticket', id: artifactId(s, 'login_ticket', ticket.login_ticket), family: null, doc, expires_at: s.now() + TTL.login_ticket });
  return ticket;
}

/** Auth0 sends the user to the hosted page when cross-origin login cannot work; this says why. */
export const THIRD_PARTY_COOKIES_BLOCKED =
  'The browser blocked the cookie set by cross-origin authentication (third-party cookies are disabled), so the sign-in cannot be completed here. Use the hosted login page (Universal Login) instead.';

/**
 * Redeems a ticket at /authorize: consumed atomically (exactly one redemption), then bound to the
 * client and to the browser through the verifier cookie, compared in constant time (keyed hash).
 * Returns the ticket's document and its co_id (so the caller clears the cookie), or throws
 * AuthorizeError; `ticketWasLive` on the error tells a real ticket's failure from a made-up one.
 */
export async function redeemLoginTicket(
  s: Services,
  ticket: string,
  client: Client,
  /** The verifier the browser holds for a co_id (its `sesame_co_<co_id>` cookie). */
  verifierOf: (coId: string) => string | undefined,
): Promise<LoginTicketDoc> {
  const invalid = new TicketError('access_denied', 'Invalid or expired login ticket. Please sign in again.', false);
  if (ticket.length === 0 || ticket.length > 128) throw invalid;
  const consumed = await s.store.consumeArtifact<LoginTicketDoc>('login_ticket', artifactId(s, 'login_ticket', ticket), s.now());
  if (consumed.status !== 'ok') throw invalid;
  const doc = consumed.artifact.doc;
  if (doc.client_id !== client.client_id) throw new TicketError('access_denied', 'The login ticket was issued to another application.', true, doc);
  const verifier = verifierOf(doc.co_id);
  if (verifier === undefined || verifier === '') throw new TicketError('access_denied', THIRD_PARTY_COOKIES_BLOCKED, true, doc);
  if (verifier.length > 128 || !s.keyring.verify(VERIFIER_PURPOSE, verifier, doc.verifier_hash)) {
    throw new TicketError('access_denied', 'The cross-origin verifier does not match this login ticket. Please sign in again.', true, doc);
  }
  return doc;
}

export class TicketError extends AuthorizeError {
  readonly ticketWasLive: boolean;
  readonly doc: LoginTicketDoc | undefined;
  constructor(error: string, description: string, live: boolean, doc?: LoginTicketDoc) {
    super(error, description);
    this.ticketWasLive = live;
    this.doc = doc;
  }
}
