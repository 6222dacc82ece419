import { randomBytes } from 'node:crypto';
import type { Services } from '../services.ts';
import type { Connection, LogEvent, User } from './model.ts';
import { normalizePhone } from './phone.ts';

export type SignInOutcome =
  | { kind: 'user'; user: User; created: boolean }
  /** No such user and the connection has `disable_signup`. */
  | { kind: 'signup_disabled' };

/**
 * The identifier a code is stored under, from what a caller typed: an email lower-cased, a phone
 * number in E.164 (separators stripped, as /passwordless/start stored it). Undefined when the value
 * cannot be one, which callers answer as a wrong code (nothing can be stored under it).
 */
export function passwordlessIdentifier(connection: Connection, raw: string): string | undefined {
  if (connection.strategy === 'sms') {
    const phone = normalizePhone(raw.trim());
    return phone.ok ? phone.e164 : undefined;
  }
  return raw.trim().toLowerCase();
}

/**
 * The user who proved control of `identifier` (an email, lower-cased, or an E.164 number) on a
 * passwordless connection, signed up on first login (PL-EMAIL, PL-SMS) unless the connection
 * disables sign-ups. Atomic: concurrent first logins create exactly one user. A created user
 * carries this first login (count 1, date, ip) and `signupLogs` are written with it; an existing
 * user's login is recorded by the caller.
 */
export async function findOrSignUp(
  s: Services,
  connection: Connection,
  identifier: string,
  ip: string,
  signupLogs: (user: User) => LogEvent[],
): Promise<SignInOutcome> {
  const sms = connection.strategy === 'sms';
  const existing = sms ? await s.store.findUserByPhone(connection.name, identifier) : await s.store.findUserByEmail(connection.name, identifier);
  if (existing) return { kind: 'user', user: existing, created: false };
  if (connection.options.disable_signup === true) return { kind: 'signup_disabled' };
  const nowIso = new Date(s.now()).toISOString();
  const id = randomBytes(12).toString('hex');
  const contact: Partial<User> = sms
    ? { user_id: `sms|${id}`, phone_number: identifier, phone_verified: true, name: identifier, nickname: identifier }
    : { user_id: `email|${id}`, email: identifier, email_verified: true, name: identifier, nickname: identifier.split('@')[0] };
  const candidate: User = {
    user_id: contact.user_id!,
    connection: connection.name,
    ...contact,
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
