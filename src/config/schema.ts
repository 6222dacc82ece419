import type { ApiProviderName } from '../mail/providers/catalog.ts';
import type { TrustProxy } from './trust-proxy.ts';

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
  /** Earlier secrets, newest first: they still open sealed values and verify hashes (rotation, issue 10 §3). */
  readonly secretPrevious: readonly string[];
  readonly bootstrapClientId: string | undefined;
  readonly bootstrapClientSecret: string | undefined;
  readonly smtpUrl: string | undefined;
  /** `log`: printing mail (codes, links) to the log is intended even where the issuer looks like production. */
  readonly devMail: 'log' | undefined;
  readonly emailFrom: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Per-IP `/passwordless/start` calls per hour; 0 turns the limit off (spec §7: 50/h). */
  readonly startLimitPerHour: number;
  readonly logLevel: string;
  /** `json`, `pretty`, or undefined: pretty on a terminal, JSON otherwise. */
  readonly logFormat: 'json' | 'pretty' | undefined;
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
  /**
   * Origins replacing the email providers' API hosts (issue 14), per provider: tests point them at
   * local fakes. Unset: the provider's own host (per region where it has several).
   */
  readonly emailApiUrls: Readonly<Partial<Record<ApiProviderName, string>>>;
  /** How long one call to an email provider's API may take; below the outbox's 30 s send budget (mail/worker.ts). */
  readonly emailApiTimeoutMs: number;
  /**
   * Which peers may set the client's IP, scheme and host through X-Forwarded-* (Fastify's
   * `trustProxy`, src/config/trust-proxy.ts); false: none, every limit sees the socket's address.
   */
  readonly trustProxy: TrustProxy;
  /** Codes or links per identifier (email, phone) and connection, from any IP: per hour, per day; 0 = off (issue 10 §2). */
  readonly identifierStartsPerHour: number;
  readonly identifierStartsPerDay: number;
  /** Failed verifications of one identifier from all IPs before each further failure delays the next guess; 0 = off. */
  readonly identifierFailureLimit: number;
  /** Longest such delay (the first is 60 s, or this if shorter; each failure doubles it). */
  readonly identifierMaxDelaySeconds: number;
  /** Per-attempt timeouts of the SMS providers (issue 5 §2; Auth0's gateway waits 30 s, spec §4). */
  readonly twilioTimeoutMs: number;
  readonly smsGatewayTimeoutMs: number;
  /** Administrators of the dashboard (issue 12), lower-cased; more are added with `sesame admin add`. */
  readonly adminEmails: readonly string[];
  /** The dashboard's built files, served at /admin (default: the package's admin/dist). */
  readonly adminDir: string;
  /** SESAME_METRICS=1: `GET /metrics` (Prometheus) on the application's port (issue 13 §4). */
  readonly metrics: boolean;
  /** A port of its own for `/metrics` (0: any free one); metrics are then on and absent from the application's port. */
  readonly metricsPort: number | undefined;
  /** Interface of that port; loopback unless set, so metrics are never public by accident. */
  readonly metricsHost: string;
}

export interface Setting {
  env: string;
  doc: string;
  default?: string;
}

/** Documentation of every variable, in README order; `docs/configuration.md` mirrors it. */
export const SETTINGS: readonly Setting[] = [
  { env: 'SESAME_PORT', default: '3000', doc: 'TCP port to listen on.' },
  { env: 'SESAME_HOST', default: '::', doc: 'Interface to bind. `::` listens on IPv6 and IPv4 (dual stack), so `localhost` works whether it resolves to `::1` or `127.0.0.1`; set `0.0.0.0` on a machine without IPv6.' },
  { env: 'SESAME_ISSUER', default: 'http://localhost:<port>/', doc: 'Public base URL; normalised to end in `/`. The `iss` of every token and the discovery `issuer`.' },
  { env: 'SESAME_DATABASE_URL', default: 'sqlite:./data/sesame.db', doc: '`sqlite:<path>`, `sqlite::memory:` or `postgres://user@host:port/db`.' },
  { env: 'SESAME_SECRET', doc: 'Key material (≥ 32 characters) for HMACs and encryption at rest. Generated and saved beside the database on first start when unset.' },
  { env: 'SESAME_SECRET_PREVIOUS', doc: 'Rotation: the secret(s) SESAME_SECRET replaced, newest first, separated by commas. They still open what they sealed and verify what they hashed; `sesame secrets reseal` moves the sealed values to SESAME_SECRET and says when this can be dropped.' },
  { env: 'SESAME_BOOTSTRAP_CLIENT_ID', doc: 'Management client id, created or updated at every start (with the secret below).' },
  { env: 'SESAME_BOOTSTRAP_CLIENT_SECRET', doc: 'Its secret (≥ 32 characters).' },
  { env: 'SESAME_SMTP_URL', doc: '`smtp://user:pass@host:port` or `smtps://…`. Unset (and no provider set through the Management API): development mode, mail is printed to the log.' },
  { env: 'SESAME_DEV_MAIL', doc: '`log`: without SMTP, print mail (codes and links) to the log even though the issuer is `https://` on a public host. Without it Sesame refuses to start that way.' },
  { env: 'SESAME_EMAIL_FROM', default: 'Sesame <no-reply@localhost>', doc: 'Default From address.' },
  { env: 'SESAME_TLS_CERT', doc: 'PEM certificate path: serve HTTPS directly (with SESAME_TLS_KEY).' },
  { env: 'SESAME_TLS_KEY', doc: 'PEM private key path.' },
  { env: 'SESAME_START_LIMIT_PER_HOUR', default: '50', doc: 'Per-IP `/passwordless/start` limit per hour; `0` turns it off. The default of suspicious-IP throttling (`/api/v2/attack-protection/suspicious-ip-throttling` overrides it).' },
  { env: 'SESAME_IDENTIFIER_STARTS_PER_HOUR', default: '10', doc: 'Codes or links one email or phone number may be sent per hour on a connection, from any IP (429 `too_many_requests`, `limit_mu` log); `0` turns it off.' },
  { env: 'SESAME_IDENTIFIER_STARTS_PER_DAY', default: '30', doc: 'The same per rolling 24 hours; `0` turns it off.' },
  { env: 'SESAME_IDENTIFIER_FAILURE_LIMIT', default: '20', doc: 'Failed code/link verifications of one email or phone number from all IPs after which each further failure delays the next attempt (60 s, doubling; 429 `too_many_attempts` + `Retry-After`; one `limit_wc` log). Forgotten after a success or 24 h without failure. `0` turns it off.' },
  { env: 'SESAME_IDENTIFIER_MAX_DELAY_SECONDS', default: '3600', doc: 'Longest delay of the per-identifier back-off above.' },
  { env: 'SESAME_LOG_LEVEL', default: 'info', doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  { env: 'SESAME_LOG_FORMAT', default: 'pretty on a terminal, else json', doc: '`json` (one JSON object a line, for log collectors) or `pretty` (coloured, readable lines).' },
  { env: 'SESAME_MAIL_MAX_ATTEMPTS', default: '6', doc: 'Delivery attempts (SMTP or an email API) per message before it is given up (and an `fn` log written); a provider\'s 4xx answer other than 408/429 gives up at once.' },
  { env: 'SESAME_MAIL_RETRY_BASE_MS', default: '2000', doc: 'First retry delay; doubles after every failure.' },
  { env: 'SESAME_MAIL_POLL_MS', default: '1000', doc: 'How often the mail worker looks for due messages besides being woken by new ones.' },
  { env: 'SESAME_MAIL_POOL_SIZE', default: '8', doc: 'Concurrent SMTP connections (and concurrent calls to an email provider\'s API).' },
  { env: 'SESAME_EMAIL_API_TIMEOUT_MS', default: '10000', doc: 'How long one call to an email provider\'s HTTP API (SendGrid, Mailgun, SES, Postmark, SparkPost) may take before it counts as failed and is retried (at most 25000).' },
  { env: 'SESAME_EMAIL_API_URL_SENDGRID', default: 'https://api.sendgrid.com', doc: 'Origin of the SendGrid API for the `sendgrid` email provider (tests point it at a local server); Sesame appends `/v3/mail/send`.' },
  { env: 'SESAME_EMAIL_API_URL_MAILGUN', default: 'https://api.mailgun.net (region `eu`: https://api.eu.mailgun.net)', doc: 'Origin of the Mailgun API for `mailgun`, whatever the region; Sesame appends `/v3/<domain>/messages`.' },
  { env: 'SESAME_EMAIL_API_URL_SES', default: 'https://email.<region>.amazonaws.com', doc: 'Origin of the Amazon SES v2 API for `ses`, whatever the region (the signature still names the configured region); Sesame appends `/v2/email/outbound-emails`.' },
  { env: 'SESAME_EMAIL_API_URL_POSTMARK', default: 'https://api.postmarkapp.com', doc: 'Origin of the Postmark API for `postmark`; Sesame appends `/email`.' },
  { env: 'SESAME_EMAIL_API_URL_SPARKPOST', default: 'https://api.sparkpost.com (region `eu`: https://api.eu.sparkpost.com)', doc: 'Origin of the SparkPost API for `sparkpost`, whatever the region; Sesame appends `/api/v1/transmissions`.' },
  { env: 'SESAME_LOG_RETENTION_DAYS', default: '30', doc: 'Logs older than this are deleted (at start, then hourly); `0` keeps them forever.' },
  { env: 'SESAME_TRUST_PROXY', default: 'false', doc: 'Behind a load balancer: which peers may name the client in `X-Forwarded-For`/`-Proto`/`-Host`. `false` (headers ignored), a hop count (`1` = one proxy in front), a comma-separated list of proxy IPs/CIDRs (`10.0.0.0/8,fd00::/8`, or `loopback`, `linklocal`, `uniquelocal`), or `true` (every hop: only when nothing but the proxy can reach Sesame). Every per-IP limit and log then sees the real client.' },
  { env: 'SESAME_TWILIO_API_URL', default: 'https://api.twilio.com', doc: 'Origin of the Twilio REST API used by SMS connections with provider `twilio`; Sesame appends `/2010-04-01/Accounts/{sid}/Messages.json`.' },
  { env: 'SESAME_TWILIO_TIMEOUT_MS', default: '10000', doc: 'How long one call to Twilio may take before the start fails with `Timeout while calling Twilio: ETIMEDOUT` (a timeout is not retried).' },
  { env: 'SESAME_SMS_GATEWAY_TIMEOUT_MS', default: '30000', doc: "How long one call to an SMS gateway may take (Auth0's 30 s) before the start fails with `Timeout while calling the SMS gateway: ETIMEDOUT`." },
  { env: 'SESAME_ADMIN_EMAILS', doc: 'Comma-separated emails of the administrators of the dashboard at `/admin` (besides those added with `sesame admin add`). Only they get Management API scopes on a user token.' },
  { env: 'SESAME_ADMIN_DIR', default: '<package>/admin/dist', doc: 'Folder of the built dashboard served at `/admin`.' },
  { env: 'SESAME_METRICS', default: '0', doc: '`1`: serve Prometheus metrics at `GET /metrics` on the application\'s port. Off by default, so they are never public by accident.' },
  { env: 'SESAME_METRICS_PORT', doc: 'Serve `GET /metrics` on this port instead (turns metrics on; the application\'s port then has no `/metrics`).' },
  { env: 'SESAME_METRICS_HOST', default: '127.0.0.1', doc: 'Interface of SESAME_METRICS_PORT; `0.0.0.0` or `::` when Prometheus scrapes from another machine.' },
];
