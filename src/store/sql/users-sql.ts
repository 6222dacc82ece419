import type { User } from '../../core/model.ts';

export interface UserRow {
  doc: string;
  logins_count: number;
  last_login: string | null;
  last_ip: string | null;
}

/**
 * The stored document plus the login columns, which win over the document's copies: logins are
 * recorded by one UPDATE of the columns alone (no read-modify-write of the document). A login also
 * counts as the user's last update, as Auth0 reports it.
 */
export function toUser(row: UserRow): User {
  const u = JSON.parse(row.doc) as User;
  u.logins_count = Number(row.logins_count);
  if (row.last_login !== null) {
    u.last_login = row.last_login;
    if (!u.updated_at || row.last_login > u.updated_at) u.updated_at = row.last_login;
  }
  if (row.last_ip !== null) u.last_ip = row.last_ip;
  return u;
}

export function userRow(user: User) {
  return {
    user_id: user.user_id,
    connection: user.connection,
    email: user.email ?? null,
    phone_number: user.phone_number ?? null,
    doc: JSON.stringify(user),
    created_at: Date.parse(user.created_at),
    logins_count: user.logins_count ?? 0,
    last_login: user.last_login ?? null,
    last_ip: user.last_ip ?? null,
  };
}
