/**
 * The one configuration schema. Every setting is read from the environment once, validated with
 * every error listed, then frozen (STYLE.md §8). Nothing else reads `process.env`.
 */
export interface Config {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  readonly host: string;
  /** Public base URL, always ending in `/`: `iss` of every token, discovery `issuer`, assertion `aud`. */
  readonly issuer: string;
  /** False when the issuer was derived from the port, so `listen()` may fix it after binding port 0. */
  readonly issuerExplicit: boolean;
  readonly databaseUrl: string;
  /** Key material for HMACs and encryption at rest; undefined = generate and persist on first start. */
  readonly secret: string | undefined;
  readonly bootstrapClientId: string | undefined;
  readonly bootstrapClientSecret: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Per-IP `/passwordless/start` calls per hour; 0 turns the limit off (spec §7: 50/h). */
  readonly startLimitPerHour: number;
  readonly logLevel: string;
  /** Mail outbox: sending attempts before an `fn` log, and the first retry delay (doubles each time). */
  readonly mailMaxAttempts: number;
  readonly mailRetryBaseMs: number;
  /** How often the mail worker looks for rows enqueued by other processes or left by a restart. */
  readonly mailPollMs: number;
  /** Concurrent SMTP connections in the nodemailer pool. */
  readonly mailPoolSize: number;
  /** Logs older than this many days are pruned every hour; 0 keeps them forever. */
  readonly logRetentionDays: number;
  /** Twilio's REST API origin, no trailing slash (issue 5 §1); tests point it at a local server. */
  readonly twilioApiUrl: string;
  /** Administrators of the dashboard (issue 12), lower-cased; more are added with `sesame admin add`. */
  readonly adminEmails: readonly string[];
  /** The dashboard's built files, served at /admin (default: the package's admin/dist). */
  readonly adminDir: string;
}

export interface Setting {
  env: string;
  doc: string;
  default?: string;
}

/** Documentation of every variable, in README order; `docs/configuration.md` mirrors it. */
export const SETTINGS: readonly Setting[] = [
  { env: 'SESAME_PORT', default: '3000', doc: 'TCP port to listen on.' },
  { env: 'SESAME_HOST', default: '0.0.0.0', doc: 'Interface to bind.' },
  { env: 'SESAME_ISSUER', default: 'http://localhost:<port>/', doc: 'Public base URL; normalised to end in `/`. The `iss` of every token and the discovery `issuer`.' },
  { env: 'SESAME_DATABASE_URL', default: 'sqlite:./data/sesame.db', doc: '`sqlite:<path>`, `sqlite::memory:` or `postgres://user@host:port/db`.' },
  { env: 'SESAME_SECRET', doc: 'Key material (≥ 32 characters) for HMACs and encryption at rest. Generated and saved beside the database on first start when unset.' },
  { env: 'SESAME_BOOTSTRAP_CLIENT_ID', doc: 'Management client id, created or updated at every start (with the secret below).' },
  { env: 'SESAME_BOOTSTRAP_CLIENT_SECRET', doc: 'Its secret (≥ 32 characters).' },
  { env: 'SESAME_SMTP_URL', doc: '`smtp://user:pass@host:port` or `smtps://…`. Unset (and no provider set through the Management API): development mode, mail is printed to the log.' },
  { env: 'SESAME_EMAIL_FROM', default: 'Sesame <no-reply@localhost>', doc: 'Default From address.' },
  { env: 'SESAME_TLS_CERT', doc: 'PEM certificate path: serve HTTPS directly (with SESAME_TLS_KEY).' },
  { env: 'SESAME_TLS_KEY', doc: 'PEM private key path.' },
  { env: 'SESAME_START_LIMIT_PER_HOUR', default: '50', doc: 'Per-IP `/passwordless/start` limit per hour; `0` turns it off.' },
  { env: 'SESAME_LOG_LEVEL', default: 'info', doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  { env: 'SESAME_MAIL_MAX_ATTEMPTS', default: '6', doc: 'SMTP attempts per message before it is given up (and an `fn` log written).' },
  { env: 'SESAME_MAIL_RETRY_BASE_MS', default: '2000', doc: 'First retry delay; doubles after every failure.' },
  { env: 'SESAME_MAIL_POLL_MS', default: '1000', doc: 'How often the mail worker looks for due messages besides being woken by new ones.' },
  { env: 'SESAME_MAIL_POOL_SIZE', default: '8', doc: 'Concurrent SMTP connections.' },
  { env: 'SESAME_LOG_RETENTION_DAYS', default: '30', doc: 'Logs older than this are deleted (at start, then hourly); `0` keeps them forever.' },
  { env: 'SESAME_TWILIO_API_URL', default: 'https://api.twilio.com', doc: 'Origin of the Twilio REST API used by SMS connections with provider `twilio`; Sesame appends `/2010-04-01/Accounts/{sid}/Messages.json`.' },
  { env: 'SESAME_ADMIN_EMAILS', doc: 'Comma-separated emails of the administrators of the dashboard at `/admin` (besides those added with `sesame admin add`). Only they get Management API scopes on a user token.' },
  { env: 'SESAME_ADMIN_DIR', default: '<package>/admin/dist', doc: 'Folder of the built dashboard served at `/admin`.' },
];
