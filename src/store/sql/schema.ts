import type { Generated } from 'kysely';

/** Row types of the SQL schema (migrations/ create them). Epoch-millisecond times are numbers. */
export interface Database {
  settings: { key: string; value: string };
  clients: { client_id: string; name: string; app_type: string; secret_hash: string | null; doc: string; created_at: number };
  client_grants: { id: string; client_id: string; audience: string; doc: string };
  resource_servers: { id: string; identifier: string; doc: string; created_at: number };
  connections: { id: string; name: string; strategy: string; doc: string; created_at: number };
  connection_clients: { connection_id: string; client_id: string };
  otp_codes: {
    connection_id: string;
    identifier: string;
    client_id: string;
    code_hash: string;
    expires_at: number;
    attempts: number;
    params: string;
    created_at: number;
  };
  assertion_jtis: { client_id: string; jti: string; expires_at: number };
  rate_limits: { key: string; window_start: number; count: number; expires_at: number };
  outbox: {
    id: Generated<number>;
    channel: string;
    recipient: string;
    payload: string;
    meta: string;
    status: string;
    attempts: number;
    next_attempt_at: number;
    leased_until: number;
    /** The delivery worker holding the lease (delivery_workers.id); null before issue 13. */
    lease_owner: Generated<string | null>;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
  };
  /** One row per running mail delivery worker, refreshed every second (issue 13 §3). */
  delivery_workers: {
    id: string;
    heartbeat_at: number;
  };
  users: {
    user_id: string;
    connection: string;
    email: string | null;
    phone_number: string | null;
    doc: string;
    created_at: number;
    /** Authoritative over the document's copies (migration 01-00): one UPDATE records a login. */
    logins_count: Generated<number>;
    last_login: string | null;
    last_ip: string | null;
  };
  /** One row (id 1): bumped by every write to reference data, compared by the reference cache. */
  ref_version: { id: number; version: number };
  logs: {
    log_id: string;
    date: string;
    type: string;
    description: string;
    client_id: string | null;
    client_name: string | null;
    connection: string | null;
    connection_id: string | null;
    ip: string | null;
    hostname: string | null;
    user_agent: string | null;
    user_id: string | null;
    user_name: string | null;
    audience: string | null;
    scope: string | null;
    strategy: string | null;
    strategy_type: string | null;
    doc: string;
  };
  /** Browser sign-in state (migration 2026-11-28): see src/store/types.ts `Artifact`. */
  artifacts: { kind: string; id: string; family: string | null; doc: string; expires_at: number; consumed_at: number | null; attempts: number };
  /** Sliding-window limit events (migration 2026-11-28T04): see `Store.reserveWindows`. */
  window_events: { key: string; at: number; ref: string };
  /** Brute-force protection (migration 2026-11-28T05): see src/store/sql/brute-force-sql.ts. */
  login_failures: { identifier: string; ip: string; connection: string; failures: number; first_failure_at: number; blocked_until: number | null };
  /** RBAC (migration 2026-12-07T00): see src/store/sql/rbac-sql.ts. */
  roles: { id: string; name: string; description: string; created_at: number };
  role_permissions: { role_id: string; resource_server_identifier: string; permission_name: string };
  user_roles: { user_id: string; role_id: string };
  user_permissions: { user_id: string; resource_server_identifier: string; permission_name: string };
  identifier_limits: { identifier: string; connection: string; kind: string; failures: number; delay_ms: number; last_at: number; blocked_until: number | null };
  /** Dashboard administrators added with `sesame admin add` (migration 2026-12-07T00-30). */
  admins: { email: string; created_at: number };
  signing_keys: { kid: string; alg: string; private_jwk_enc: string; public_jwk: string; created_at: number; status: string };
}

/** Log columns that Auth0's log search can address (spec §5, LOGQ). */
export const LOG_COLUMNS = [
  'log_id', 'date', 'type', 'description', 'client_id', 'client_name', 'connection', 'connection_id', 'ip',
  'hostname', 'user_agent', 'user_id', 'user_name', 'audience', 'scope', 'strategy', 'strategy_type',
] as const;
export type LogColumn = (typeof LOG_COLUMNS)[number];
