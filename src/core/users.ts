import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import type { Connection, LogEvent, User } from './model.ts';

export type SignInOutcome =
  | { kind: 'user'; user: User; created: boolean }
  /** No such user and the connection has `disable_signup`. */
  | { kind: 'signup_disabled' };

/**
 * The user who proved control of `identifier` (an email, lower-cased) on a passwordless connection,
 * signed up on first login (PL-EMAIL) unless the connection disables sign-ups. Atomic: concurrent
 * first logins create exactly one user. A created user carries this first login (count 1, date,
 * ip) and `signupLogs` are written with it; an existing user's login is recorded by the caller.
 */
export async function findOrSignUp(
  s: Services,
  connection: Connection,
  identifier: string,
  ip: string,
  signupLogs: (user: User) => LogEvent[],
): Promise<SignInOutcome> {
  if (connection.strategy !== 'email') {
    // The store has no lookup by phone number yet; /passwordless/start issues no sms codes (issue 5).
    throw new Error('sms users are not supported by the store yet');
  }
  const existing = await s.store.findUserByEmail(connection.name, identifier);
  if (existing) return { kind: 'user', user: existing, created: false };
  if (connection.options.disable_signup === true) return { kind: 'signup_disabled' };
  const nowIso = new Date(s.now()).toISOString();
  const candidate: User = {
    user_id: `email|${randomBytes(12).toString('hex')}`,
    connection: connection.name,
    email: identifier,
    email_verified: true,
    name: identifier,
    nickname: identifier.split('@')[0],
    user_metadata: {},
    app_metadata: {},
    created_at: nowIso,
    updated_at: nowIso,
    last_login: nowIso,
    last_ip: ip,
    logins_count: 1,
  };
  const { user, created } = await s.store.createUserIfAbsent(candidate, signupLogs(candidate));
  return { kind: 'user', user, created };
}
