import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import type { Config } from '../config/schema.ts';
import { Keyring } from '../core/crypto.ts';
import type { EmailProvider, Store } from '../store/types.ts';
import { DEV_MAIL_REFUSAL, devMailRefused } from './dev-mode.ts';
import { parseMailbox } from './providers/address.ts';
import { type ApiProviderName, isApiProvider, PROVIDERS } from './providers/catalog.ts';
import type { OpenCredentials } from './providers/requests.ts';
import { openApiCredentials } from './providers/secrets.ts';
import { apiTransport } from './providers/send.ts';

/** A rendered message as the outbox holds it (`OutboxMessage.payload`), plus its recipient. */
export interface OutgoingMail {
  to: string;
  from: string;
  subject: string;
  html: string;
  text: string;
}

export interface MailTransport {
  readonly mode: 'smtp' | 'api' | 'console';
  /** Resolves once the server accepted the message; rejects with the server's answer otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (smtps, port 465); otherwise nodemailer upgrades with STARTTLS when offered. */
  secure: boolean;
  user?: string;
  pass?: string;
}

/** Store setting written by the Management API's `/api/v2/emails/provider` (spec §5). */
export const EMAIL_PROVIDER_SETTING = 'email_provider';
/** The AAD of the sealed SMTP password (issue 10 §3): one provider, so the purpose is the row. */
export const SMTP_CONTEXT = 'smtp';

// `[::1]` is how URLs (and the Management API) write an IPv6 host; sockets want `::1`.
const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/**
 * The provider's SMTP settings when it is enabled and usable; `undefined` otherwise. The password is
 * stored encrypted (`smtp_pass_enc`, see http/management/email-provider.ts) and decrypted only here,
 * with `keyring`; a plain `credentials.smtp_pass` (a row written before encryption) still works.
 */
export function providerSmtp(p: EmailProvider | undefined, keyring?: Keyring): SmtpSettings | undefined {
  if (!p?.enabled || p.name !== 'smtp') return undefined;
  const { smtp_host: host, smtp_port: port, smtp_user: user } = p.credentials ?? {};
  const pass = p.smtp_pass_enc && keyring ? keyring.open(SMTP_CONTEXT, p.smtp_pass_enc) : p.credentials?.smtp_pass;
  const portNum = Number(port);
  if (typeof host !== 'string' || host === '' || !Number.isInteger(portNum) || portNum <= 0) return undefined;
  return {
    host: unbracket(host),
    port: portNum,
    secure: portNum === 465,
    ...(typeof user === 'string' && user !== '' ? { user, pass: typeof pass === 'string' ? pass : '' } : {}),
  };
}

/** Parses `smtp://user:pass@host:port` / `smtps://…` (already validated by loadConfig). */
export function urlSmtp(url: string): SmtpSettings {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return {
    host: unbracket(u.hostname),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    ...(u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : {}),
  };
}

/** Whether mail goes through this provider: enabled, and SMTP with a host and port or an API provider. */
export function providerUsable(p: EmailProvider | undefined): boolean {
  return p?.enabled === true && (isApiProvider(p.name) || providerSmtp(p) !== undefined);
}

/** The From used when a connection template sets none: the provider's, else SESAME_EMAIL_FROM. */
export function defaultFromAddress(provider: EmailProvider | undefined, config: Pick<Config, 'emailFrom'>): string {
  return (providerUsable(provider) && provider?.default_from_address) || config.emailFrom;
}

const isLoopback = (host: string) => /^(localhost|127(\.\d{1,3}){3}|::1)$/i.test(host);

// A rendered From may carry a display name with `<` or `,` (from an application name); handing
// nodemailer {name, address} keeps its address parser from splitting it into several addresses.
function fromField(from: string): string | { name: string; address: string } {
  const { name, address } = parseMailbox(from);
  return name ? { name, address } : from;
}

/**
 * Opens the TCP connection for nodemailer with Nagle's algorithm off. SMTP is write-write-read:
 * nodemailer writes the message and the closing dot separately, and with Nagle on the dot waits for
 * the server's delayed ACK (40 ms on Linux), capping a pooled connection at ~20 messages/s.
 * The socket is handed over while still connecting, on purpose: nodemailer then owns every outcome
 * (refused, greeting timeout, TLS), and its pool frees the slot. A `getSocket` that reports an error
 * itself leaves the pool slot taken forever (nodemailer 7), which stalls the queue after an outage.
 */
function socketWithoutNagle(s: SmtpSettings) {
  return (_opts: unknown, callback: (err: Error | null, socketOptions: { connection: Socket }) => void) => {
    const socket = connect({ host: s.host, port: s.port, noDelay: true, keepAlive: true });
    coalesceWrites(socket);
    callback(null, { connection: socket });
  };
}

/**
 * Without Nagle every small write nodemailer makes (header lines, encoded chunks) is its own
 * syscall and packet. Corking until the end of the tick sends them together, without Nagle's wait.
 */
function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
}

function smtpTransport(s: SmtpSettings, poolSize: number): MailTransport {
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: poolSize,
    maxMessages: Infinity,
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.user !== undefined ? { auth: { user: s.user, pass: s.pass ?? '' } } : {}),
    // Self-signed certificates are only tolerated for a relay on this machine.
    ...(isLoopback(s.host) ? { tls: { rejectUnauthorized: false } } : {}),
    getSocket: socketWithoutNagle(s),
    // nodemailer waits up to 2 minutes by default; a send must end well inside the worker's
    // outbox lease, or another worker could claim the row and send it a second time. With a
    // handed-over socket the greeting timeout covers connecting too.
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    // Payloads are strings; never let a value be read as a file path or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    mode: 'smtp',
    async send(m) {
      await transporter.sendMail({
        from: fromField(m.from), to: m.to, subject: m.subject, html: m.html, text: m.text,
        // Skips nodemailer's per-message guess (a regex match over the whole body, its top CPU
        // cost); quoted-printable keeps mostly-ASCII mail small and readable.
        textEncoding: 'quoted-printable',
      });
    },
    close: () => transporter.close(),
  };
}

function consoleTransport(log: FastifyBaseLogger, config: Config): MailTransport {
  if (devMailRefused(config)) {
    // The provider was removed while running (start refuses this state, mail/dev-mode.ts): mail
    // fails and is retried rather than printed, until SMTP is configured again.
    log.error(DEV_MAIL_REFUSAL(config.issuer));
    return { mode: 'console', send: () => Promise.reject(new Error(DEV_MAIL_REFUSAL(config.issuer))), close() {} };
  }
  log.warn('No SMTP provider: development mode, messages are printed to the log');
  return {
    mode: 'console',
    async send(m) {
      // Development mode only: printing the message (and its code) is the point, nothing is sent.
      log.warn({ mail: { to: m.to, from: m.from, subject: m.subject, text: m.text } }, 'email (development mode, not sent)');
    },
    close() {},
  };
}

const CHECK_MS = 1_000;

/** What the resolver builds a transport from; hashed into its fingerprint. */
type Choice = { kind: 'smtp'; smtp: SmtpSettings; source: 'provider' | 'config' } | { kind: 'api'; name: ApiProviderName; credentials: OpenCredentials } | { kind: 'console' };

/**
 * Where mail goes: the enabled provider set through the Management API (SMTP, or an email API:
 * SendGrid, Mailgun, SES, Postmark, SparkPost), else SESAME_SMTP_URL, else the development console.
 * The provider row is read at most once a second; the transport (and its connection pool) is rebuilt
 * only when the effective settings change.
 */
export class TransportResolver {
  readonly #store: Store;
  readonly #config: Config;
  readonly #log: FastifyBaseLogger;
  #checkedAt = -Infinity;
  #fingerprint = '';
  #current: MailTransport | undefined;
  /** Decrypts the provider's secrets; built from the resolved SESAME_SECRET (app.ts). */
  readonly #keyring: Keyring | undefined;

  constructor(deps: { store: Store; config: Config; log: FastifyBaseLogger }) {
    this.#store = deps.store;
    this.#config = deps.config;
    this.#log = deps.log;
    this.#keyring = deps.config.secret ? new Keyring(deps.config.secret, deps.config.secretPrevious) : undefined;
  }

  /** The transport to build, and why an enabled provider is passed over (logged once per change). */
  #choose(provider: EmailProvider | undefined): { choice: Choice; problem?: string } {
    let problem: string | undefined;
    try {
      if (provider?.enabled && isApiProvider(provider.name)) {
        const credentials = openApiCredentials(provider, this.#keyring);
        if (credentials) return { choice: { kind: 'api', name: provider.name, credentials } };
      }
      const smtp = providerSmtp(provider, this.#keyring);
      if (smtp) return { choice: { kind: 'smtp', smtp, source: 'provider' } };
      if (provider?.enabled) problem = 'the email provider is enabled but unusable (its credentials are incomplete); ignoring it';
    } catch {
      problem = 'the email provider\'s secrets cannot be decrypted (was SESAME_SECRET changed?); set them again through the Management API';
    }
    const fallback: Choice = this.#config.smtpUrl ? { kind: 'smtp', smtp: urlSmtp(this.#config.smtpUrl), source: 'config' } : { kind: 'console' };
    return { choice: fallback, ...(problem ? { problem } : {}) };
  }

  /** Call between batches: closing a replaced pool would cut sends still in flight. */
  async get(): Promise<MailTransport> {
    // Real time, not the injectable clock: a test that freezes time must still see a new provider.
    const now = performance.now();
    if (this.#current && now - this.#checkedAt < CHECK_MS) return this.#current;
    const provider = await this.#store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
    this.#checkedAt = now;
    const { choice, problem } = this.#choose(provider);
    // Hashed so that passwords and API keys are not kept as a readable string beside the transport.
    const fingerprint = createHash('sha256').update(JSON.stringify([choice, problem])).digest('hex');
    if (this.#current && fingerprint === this.#fingerprint) return this.#current;
    if (problem) this.#log.error({ provider: provider?.name }, problem);
    this.#current?.close();
    this.#fingerprint = fingerprint;
    if (choice.kind === 'smtp') {
      this.#current = smtpTransport(choice.smtp, this.#config.mailPoolSize);
      this.#log.info({ host: choice.smtp.host, port: choice.smtp.port, source: choice.source }, 'mail transport: SMTP');
    } else if (choice.kind === 'api') {
      this.#current = apiTransport(choice.name, choice.credentials, { origins: this.#config.emailApiUrls, timeoutMs: this.#config.emailApiTimeoutMs });
      this.#log.info({ provider: choice.name, source: 'provider' }, `mail transport: ${PROVIDERS[choice.name].label} API`);
    } else {
      this.#current = consoleTransport(this.#log, this.#config);
    }
    return this.#current;
  }

  close(): void {
    this.#current?.close();
    this.#current = undefined;
    this.#fingerprint = '';
  }
}
