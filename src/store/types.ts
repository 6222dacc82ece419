import type { Client, Connection, LogEvent, TenantSettings, User } from '../core/model.ts';
import type { IdentifierLimitsStore } from './identifier-limits.ts';
import type { RbacStore } from './rbac-types.ts';

export type { HeldPermission, PermissionRef, RbacStore, Role } from './rbac-types.ts';
import type { DashboardStore } from './dashboard-types.ts';

/** A stored one-time code: only the latest per (connection, identifier, client) exists (spec §3.2). */
export interface CodeRecord {
  connection_id: string;
  /** Normalised email (lower case) or E.164 phone number. */
  identifier: string;
  client_id: string;
  /** Keyed HMAC of the code; the code itself is never stored. */
  code_hash: string;
  /** Epoch milliseconds. */
  expires_at: number;
  attempts: number;
  /** Parameters remembered from start for the exchange: nonce, scope, audience, redirect_uri… */
  params: Record<string, string>;
  created_at: number;
}

export type CodeKey = Pick<CodeRecord, 'connection_id' | 'identifier' | 'client_id'>;

/** Outcome of taking one attempt slot on a code, atomically. */
export type AttemptResult =
  | { kind: 'missing' }
  | { kind: 'exhausted' }
  | { kind: 'attempt'; record: CodeRecord };

/**
 * Browser sign-in state kept server-side (issue 3): what each kind holds is in src/core/artifacts.ts.
 * `id` is a keyed hash of the token the browser or app holds (`artifactId`), never the token.
 */
export type ArtifactKind = 'transaction' | 'session' | 'auth_code' | 'refresh_token' | 'login_ticket' | 'relay';

export interface Artifact<T = unknown> {
  kind: ArtifactKind;
  id: string;
  /** Revoked together: a refresh-token family, or everything a session issued. */
  family: string | null;
  doc: T;
  /** Epoch milliseconds. */
  expires_at: number;
  consumed_at: number | null;
  attempts: number;
}

export type ConsumeResult<T> =
  | { status: 'ok'; artifact: Artifact<T> }
  /** Already consumed before (outside the leeway): the caller treats it as replay. */
  | { status: 'reused'; artifact: Artifact<T> }
  | { status: 'missing' };

export interface OutboxMessage {
  id: number;
  channel: 'email';
  recipient: string;
  /** Rendered message, JSON: `{from, subject, html, text}`. Contains the code: never logged. */
  payload: string;
  /** Non-secret context for the `fn` log: client_id, client_name, connection, email_type. */
  meta: Record<string, string>;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
}

export interface NewOutboxMessage {
  channel: 'email';
  recipient: string;
  payload: string;
  meta: Record<string, string>;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Private JWK, encrypted with the Keyring. */
  private_jwk_enc: string;
  public_jwk: string;
  created_at: number;
  /**
   * Auth0's lifecycle: `current` signs; `next` is published ahead of its use so verifiers already
   * have it when a rotation promotes it; `previous` stays in the JWKS for verification; `revoked` is gone.
   */
  status: 'current' | 'next' | 'previous' | 'revoked';
  /** Epoch ms the key became / stopped being current, and was revoked (null or absent: not yet). */
  current_since?: number | null;
  current_until?: number | null;
  revoked_at?: number | null;
}

export interface ClientGrant {
  id: string;
  client_id: string;
  audience: string;
  scope: string[];
}

/** An API (Auth0 resource server, issue 4 §4): what an `audience` names and how its tokens are made. */
export interface ResourceServer {
  id: string;
  name: string;
  /** The audience; unique and immutable. */
  identifier: string;
  scopes: { value: string; description?: string }[];
  /** Access-token lifetime in seconds (Auth0 default 86400). */
  token_lifetime: number;
  signing_alg: 'RS256';
  allow_offline_access: boolean;
  skip_consent_for_verifiable_first_party_clients: boolean;
  /**
   * Auth0's RBAC switch (issue 10 §1): a user token's API scopes are those the user holds as
   * permissions (directly or through roles). Absent in documents stored before it existed = false.
   */
  enforce_policies?: boolean;
  /** `access_token_authz` adds the `permissions` claim (with enforce_policies). Absent = `access_token`. */
  token_dialect?: TokenDialect;
}

/** The access-token profiles Sesame makes (Auth0's RFC 9068 ones are refused, docs/auth0-compat.md). */
export type TokenDialect = 'access_token' | 'access_token_authz';

export interface EmailProvider {
  name: string;
  enabled: boolean;
  default_from_address?: string;
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
  /** `credentials.smtp_pass`, encrypted with the Keyring; the password itself is never stored. */
  smtp_pass_enc?: string;
  /** An API provider's write-only credentials (`api_key`, `secretAccessKey`, `server_token`), sealed one per field (mail/providers/secrets.ts). */
  secrets_enc?: Record<string, string>;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface ListOptions {
  page: number;
  perPage: number;
}

/** A log stream (Auth0 `/api/v2/log-streams`): `doc` is its configuration, the secret only sealed. */
export interface LogStreamRecord {
  id: string;
  doc: LogStreamDoc;
  /** The last log_id the receiver acknowledged; delivery resumes after it. */
  checkpoint: string | null;
  created_at: number;
}

export interface LogStreamDoc {
  name: string;
  type: 'http';
  status: 'active' | 'paused' | 'suspended';
  sink: {
    httpEndpoint: string;
    httpAuthorization?: string;
    httpContentFormat: 'JSONARRAY' | 'JSONLINES' | 'JSONOBJECT';
    httpContentType: string;
    httpCustomHeaders?: { header: string; value: string }[];
  };
  /** `sink.signingSecret`, encrypted with the Keyring; never returned. Absent: deliveries are unsigned. */
  signing_secret_enc?: string;
}

/** One sliding-window limit: at most `max` events under `key` within the last `windowMs`. */
export interface WindowLimit {
  key: string;
  max: number;
  windowMs: number;
}

export type WindowReservation =
  | { ok: true }
  /** The first limit (in the order given) without room; `resetAt` (epoch ms) is when it has room again. */
  | { ok: false; limit: WindowLimit; count: number; resetAt: number };

// brute-force protection (spec §7, BFP) ----------------------------------------------------------
/** The pair Auth0 counts failed logins for: an identifier (as normalised at verification) from one IP, on one connection. */
export interface LoginFailureKey {
  identifier: string;
  ip: string;
  /** Connection name, as `/api/v2/user-blocks` shows it. */
  connection: string;
}

/** BFP: `threshold` failures within `windowMs` block the pair for `blockMs`. */
export interface BruteForcePolicy {
  threshold: number;
  windowMs: number;
  blockMs: number;
}

export interface LoginFailureOutcome {
  /** The pair's failures in the current window, this one included. */
  failures: number;
  /** A block is running for the pair. */
  blocked: boolean;
  /** This failure set the block (exactly one concurrent failure does). */
  newlyBlocked: boolean;
}

/** A running block (`/api/v2/user-blocks` `blocked_for` items, plus when it ends). */
export interface LoginBlock {
  identifier: string;
  ip: string;
  connection: string;
  /** Epoch ms. */
  blocked_until: number;
}

export interface LoginBlockFilter {
  /** Non-empty. */
  identifiers: string[];
  connection?: string;
}

/** A parsed log query (Auth0's Lucene subset), compiled by the store into its own SQL. */
export type LogQuery =
  | { kind: 'and' | 'or'; items: LogQuery[] }
  | { kind: 'not'; item: LogQuery }
  | { kind: 'term'; fields: string[]; value: string; wildcard: boolean }
  | { kind: 'range'; field: string; from: string | null; to: string | null; fromInclusive: boolean; toInclusive: boolean }
  | { kind: 'exists'; field: string };

export interface LogSearch {
  query: LogQuery | null;
  page: number;
  perPage: number;
  sort: { field: string; dir: 'asc' | 'desc' };
}

/**
 * Sesame's persistence contract. Every operation that guards security is atomic by contract (one SQL
 * statement or one transaction): `issueCode`, `takeAttempt`, `consumeCode`, `useAssertionJti`,
 * `hitRateLimit`, `claimOutbox`.
 */
export interface Store extends RbacStore, IdentifierLimitsStore, DashboardStore {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  /** Runs `fn` holding a database-wide lock (PostgreSQL advisory lock): first-start seeding happens once however many instances start. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;

  // settings (key/value JSON: tenant settings, email provider)
  getSetting<T>(key: string): Promise<T | undefined>;
  putSetting(key: string, value: unknown): Promise<void>;
  /** Read-modify-write in one transaction serialised per key; `change` must be pure (it may run twice). */
  updateSetting<T>(key: string, change: (current: T | undefined) => T): Promise<T>;
  /** Removes a setting (e.g. the email provider); false if it was not set. */
  deleteSetting(key: string): Promise<boolean>;
  getTenantSettings(): Promise<TenantSettings>;

  // clients
  getClient(clientId: string): Promise<{ client: Client; secretHash: string | null } | undefined>;
  listClients(opts: ListOptions & { appType?: string[] }): Promise<Page<Client>>;
  insertClient(client: Client, secretHash: string | null): Promise<void>;
  updateClient(client: Client, secretHash?: string | null): Promise<void>;
  deleteClient(clientId: string): Promise<boolean>;

  // client grants (who may get tokens for which API, with which scopes)
  listClientGrants(filter: { clientId?: string; audience?: string }): Promise<ClientGrant[]>;
  putClientGrant(grant: ClientGrant): Promise<void>;
  deleteClientGrant(id: string): Promise<boolean>;

  // resource servers (APIs); the system Management API is not stored (src/core/resource-servers.ts)
  /** By identifier (the audience): cached like clients, read on every token request with an audience. */
  getResourceServer(identifier: string): Promise<ResourceServer | undefined>;
  getResourceServerById(id: string): Promise<ResourceServer | undefined>;
  listResourceServers(opts: ListOptions): Promise<Page<ResourceServer>>;
  /** False if the identifier is taken (the unique index decides, so concurrent creates cannot both win). */
  insertResourceServer(rs: ResourceServer): Promise<boolean>;
  updateResourceServer(rs: ResourceServer): Promise<void>;
  /** Deletes the API and the client grants for its audience, in one transaction. */
  deleteResourceServer(id: string): Promise<boolean>;

  // connections
  getConnection(id: string): Promise<Connection | undefined>;
  getConnectionByName(name: string): Promise<Connection | undefined>;
  listConnections(opts: ListOptions & { strategy?: string[]; name?: string }): Promise<Page<Connection>>;
  insertConnection(conn: Connection): Promise<void>;
  updateConnection(conn: Connection): Promise<void>;
  deleteConnection(id: string): Promise<boolean>;
  listEnabledClients(connectionId: string): Promise<string[]>;
  setEnabledClients(connectionId: string, changes: { client_id: string; status: boolean }[]): Promise<void>;
  isConnectionEnabled(connectionId: string, clientId: string): Promise<boolean>;

  // one-time codes
  /** Replaces the previous code for the key, enqueues the message and appends the logs: one transaction. */
  issueCode(code: CodeRecord, message: NewOutboxMessage | null, logs: LogEvent[]): Promise<void>;
  /** Atomically counts one attempt if fewer than `maxAttempts` were made; never more comparisons than that. */
  takeAttempt(key: CodeKey, maxAttempts: number): Promise<AttemptResult>;
  /** Deletes the code only if it still has this hash: exactly one concurrent caller wins. */
  consumeCode(key: CodeKey, codeHash: string): Promise<boolean>;

  /** Sets attempts back to 0 if the code still has this hash (a check that must not spend the code's budget). */
  resetAttempts(key: CodeKey, codeHash: string): Promise<void>;

  // browser sign-in artifacts (transactions, sessions, codes, refresh tokens, tickets, relay codes)
  /** Inserts or replaces. */
  putArtifact<T>(a: { kind: ArtifactKind; id: string; family?: string | null; doc: T; expires_at: number }): Promise<void>;
  /** The artifact if it exists and has not expired at `now` (consumed ones are returned too). */
  getArtifact<T>(kind: ArtifactKind, id: string, now: number): Promise<Artifact<T> | undefined>;
  /** Replaces the document of a live artifact; false if it is gone or expired. */
  updateArtifact<T>(kind: ArtifactKind, id: string, doc: T, now: number): Promise<boolean>;
  /**
   * Atomically marks the artifact consumed (one UPDATE … RETURNING): exactly one caller gets `ok`,
   * except that within `leewayMs` of the first consumption later callers get `ok` too (refresh-token
   * rotation leeway). A consumed artifact outside the leeway is `reused`.
   */
  consumeArtifact<T>(kind: ArtifactKind, id: string, now: number, leewayMs?: number): Promise<ConsumeResult<T>>;
  /**
   * `consumeArtifact`, and only if it succeeds, inserts `next` — in one transaction, so the consumed
   * row stays locked until its successor is committed (refresh-token rotation: a concurrent family
   * revocation waits for the successor and then sees it).
   */
  rotateArtifact<T>(
    kind: ArtifactKind, id: string, now: number, leewayMs: number,
    next: { kind: ArtifactKind; id: string; family: string | null; doc: unknown; expires_at: number },
  ): Promise<ConsumeResult<T>>;
  /** Atomically counts one attempt on a live, unconsumed artifact if fewer than `max` were made. */
  takeArtifactAttempt<T>(kind: ArtifactKind, id: string, max: number, now: number): Promise<Artifact<T> | undefined>;
  deleteArtifact(kind: ArtifactKind, id: string): Promise<boolean>;
  /** Deletes every artifact of the family (refresh-token reuse, logout); returns how many. */
  deleteArtifactFamily(family: string): Promise<number>;
  /** Drops expired artifacts; returns how many. */
  purgeArtifacts(now: number): Promise<number>;

  // private_key_jwt replay protection
  /** Records a jti; false if it was already used by that client. Expired jtis are purged. */
  useAssertionJti(clientId: string, jti: string, expiresAt: number): Promise<boolean>;

  // sliding-window limits (SMS toll-fraud guards, issue 5 §4)
  /**
   * Records one event (at `now`, tagged `ref`) under every limit's key only if every limit still has
   * room, checked in the order given: one transaction, serialised per key (PostgreSQL advisory
   * locks, SQLite's single writer), so concurrent reservations never exceed a limit and a refused
   * one records nothing.
   */
  reserveWindows(limits: WindowLimit[], now: number, ref: string): Promise<WindowReservation>;
  /** Removes the events of a reservation (the send it was for did not happen). */
  releaseWindows(ref: string): Promise<void>;
  /** Drops events older than `before` (epoch ms); returns how many. */
  purgeWindows(before: number): Promise<number>;

  // brute-force protection (spec §7, BFP; src/store/sql/brute-force-sql.ts) ------------------------
  /**
   * Counts one failed guess for the pair and blocks it at the threshold, atomically (one UPSERT):
   * of any number of concurrent failures exactly one is `newlyBlocked`, and only that one appends
   * `blockLog`, in the same transaction.
   */
  recordLoginFailure(key: LoginFailureKey, now: number, policy: BruteForcePolicy, blockLog?: LogEvent): Promise<LoginFailureOutcome>;
  /** A success: forgets the pair's failures (a running block stays). */
  clearLoginFailures(key: LoginFailureKey, now: number): Promise<void>;
  /** The pair's row: its failure count and block end (epoch ms, null: none), or undefined if it has none. */
  getLoginBlock(key: LoginFailureKey): Promise<{ failures: number; blocked_until: number | null } | undefined>;
  listLoginBlocks(filter: LoginBlockFilter, now: number): Promise<LoginBlock[]>;
  /** Removes the blocks and failure counts of the identifiers; returns how many pairs. */
  clearLoginBlocks(filter: LoginBlockFilter): Promise<number>;

  // rate limits: fixed window counter, returns the count after this hit
  hitRateLimit(key: string, windowStart: number, windowMs: number): Promise<number>;

  // outbox
  enqueue(message: NewOutboxMessage): Promise<void>;
  /**
   * Leases up to `limit` due messages to this worker for `leaseMs`; no message is leased twice. With
   * `owner` (issue 13 §3) the rows are leased to that delivery worker, and rows leased to a worker
   * whose last heartbeat is at or before `owner.staleBefore` are taken over at once.
   */
  claimOutbox(now: number, limit: number, leaseMs: number, owner?: { id: string; staleBefore: number }): Promise<OutboxMessage[]>;
  /** Records that a delivery worker is alive (one upsert). */
  heartbeatWorker(id: string, now: number): Promise<void>;
  /** Removes a stopping worker's row, and rows of workers silent for an hour. */
  retireWorker(id: string, now: number): Promise<void>;
  markSent(id: number): Promise<void>;
  /**
   * Marks a delivered batch sent in one statement. `keepPayload` (development console only) keeps
   * the rendered message for the dashboard's dev outbox; otherwise it is dropped (it holds the code).
   */
  markSentMany(ids: number[], keepPayload?: boolean): Promise<void>;
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Gives up on a message and appends its `fn` log in the same transaction. */
  markFailed(id: number, attempts: number, error: string, log: LogEvent): Promise<void>;
  countOutbox(status: 'pending' | 'sent' | 'failed'): Promise<number>;
  /** Pending messages and the creation time (epoch ms) of the oldest, in one query (metrics scrape). */
  outboxBacklog(): Promise<{ pending: number; oldestCreatedAt: number | null }>;

  // users
  getUser(userId: string): Promise<User | undefined>;
  findUserByEmail(connection: string, email: string): Promise<User | undefined>;
  /** By E.164 number on an sms connection. */
  findUserByPhone(connection: string, phoneNumber: string): Promise<User | undefined>;
  listUsersByEmail(email: string): Promise<User[]>;
  /** Ordered by created_at, newest first unless `sort` is 'asc'. */
  listUsers(opts: ListOptions & { emailQuery?: string; phoneQuery?: string; connection?: string; sort?: 'asc' | 'desc' }): Promise<Page<User>>;
  /**
   * Inserts the user unless one exists for (connection, email) or (connection, phone_number); returns the stored user and whether it
   * was created. `logsIfCreated` are appended in the same transaction, only if the user was created.
   */
  createUserIfAbsent(user: User, logsIfCreated?: LogEvent[]): Promise<{ user: User; created: boolean }>;
  /** Replaces a user's document (profile, metadata, flags); user_id, connection and email never change. */
  updateUser(user: User): Promise<void>;
  deleteUser(userId: string): Promise<boolean>;
  recordLogin(userId: string, at: string, ip: string): Promise<void>;

  // logs
  appendLogs(logs: LogEvent[]): Promise<void>;
  getLog(logId: string): Promise<LogEvent | undefined>;
  searchLogs(search: LogSearch): Promise<Page<LogEvent>>;
  /** Checkpoint paging: logs with log_id > from (or the oldest), ascending, at most `take`. */
  logsAfter(from: string | null, take: number, before?: string): Promise<LogEvent[]>;
  /** Deletes at most `limit` of the oldest logs dated before `before` (ISO 8601); returns how many. */
  pruneLogs(before: string, limit: number): Promise<number>;

  // log streams (each write is one statement; the lease makes delivery single-instance per stream)
  listLogStreams(): Promise<LogStreamRecord[]>;
  getLogStream(id: string): Promise<LogStreamRecord | undefined>;
  insertLogStream(stream: LogStreamRecord): Promise<void>;
  /** Replaces the configuration only (never the checkpoint or the lease); false if it is gone. */
  updateLogStream(stream: LogStreamRecord): Promise<boolean>;
  deleteLogStream(id: string): Promise<boolean>;
  /** Takes or renews the stream's delivery lease for `owner`: one UPDATE, so one instance wins. */
  claimLogStream(id: string, owner: string, now: number, leaseMs: number): Promise<LogStreamRecord | undefined>;
  /** Moves the checkpoint and renews the lease only while `owner` holds it; false if it was lost. */
  advanceLogStream(id: string, owner: string, checkpoint: string, now: number, leaseMs: number): Promise<boolean>;
  releaseLogStream(id: string, owner: string): Promise<void>;

  // signing keys
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * A `current` or `next` key is inserted only if none with its status exists, atomically: processes
   * starting together on a new database each try to create one, and exactly one must win.
   */
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /** A marker that changes whenever the key set changes (rotation, revocation, creation). */
  signingKeysVersion(): Promise<number>;
  /**
   * One transaction: current → previous, next → current, `next` inserted as the new next key.
   * False (and nothing changed) when there is no next key to promote.
   */
  rotateSigningKeys(next: SigningKeyRecord, now: number): Promise<boolean>;
  /** Revokes `kid` if it is a previous key; false (nothing changed) otherwise. */
  revokeSigningKey(kid: string, now: number): Promise<boolean>;

  // rotation of SESAME_SECRET (issue 10 §3; src/core/keyring.ts)
  /** Replaces a signing key's sealed private half (re-sealed under a new secret); false if `kid` is unknown. */
  resealSigningKey(kid: string, sealed: string): Promise<boolean>;
  /** Replaces a client's secret hash only while it is still `from` (lazy re-hash after a rotation). */
  rehashClientSecret(clientId: string, from: string, to: string): Promise<boolean>;
  /** What is still hashed under another secret than the key id `keyId` (live rows only). */
  hashesNotUnder(keyId: string, now: number): Promise<StaleHashes>;
}

/** Rows whose keyed hash was made by another secret, with the last moment one of them stays usable. */
export interface StaleHashes {
  clientSecrets: number;
  codes: { count: number; expiresAt: number | null };
  artifacts: { kind: ArtifactKind; count: number; expiresAt: number | null }[];
}
