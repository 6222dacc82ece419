import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_PROVIDERS, type ApiProviderName } from '../mail/providers/catalog.ts';
import type { Config } from './schema.ts';
import { parseTrustProxy } from './trust-proxy.ts';

export class ConfigError extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`Invalid configuration:\n  - ${errors.join('\n  - ')}`);
    this.errors = errors;
  }
}

type Env = Record<string, string | undefined>;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the environment once; throws a ConfigError listing every problem (STYLE.md §8). */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const errors: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };

  const port = int('SESAME_PORT', 3000, 0, 65535);
  // Dual stack: `localhost` may resolve to ::1 (issue 11).
  const host = str('SESAME_HOST') ?? '::';
  const tlsCert = str('SESAME_TLS_CERT');
  const tlsKey = str('SESAME_TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) errors.push('SESAME_TLS_CERT and SESAME_TLS_KEY must be set together');
  for (const [name, path] of [['SESAME_TLS_CERT', tlsCert], ['SESAME_TLS_KEY', tlsKey]] as const) {
    if (path !== undefined && !existsSync(path)) errors.push(`${name}: file not found: ${path}`);
  }

  let issuer = str('SESAME_ISSUER');
  const issuerExplicit = issuer !== undefined;
  if (issuer !== undefined) {
    try {
      const u = new URL(issuer);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.search || u.hash) throw new Error('query');
      issuer = u.href.endsWith('/') ? u.href : `${u.href}/`;
    } catch {
      errors.push(`SESAME_ISSUER must be an http(s) URL without query or fragment (got "${issuer}")`);
    }
  } else {
    issuer = `${tlsCert ? 'https' : 'http'}://localhost:${port}/`;
  }

  const databaseUrl = str('SESAME_DATABASE_URL') ?? 'sqlite:./data/sesame.db';
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    errors.push(`SESAME_DATABASE_URL must start with sqlite: or postgres:// (got "${databaseUrl}")`);
  }

  const secret = str('SESAME_SECRET');
  if (secret !== undefined && secret.length < 32) errors.push('SESAME_SECRET must be at least 32 characters');
  const secretPrevious = (str('SESAME_SECRET_PREVIOUS') ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (secretPrevious.some((v) => v.length < 32)) errors.push('SESAME_SECRET_PREVIOUS must list secrets of at least 32 characters, separated by commas');

  const bootstrapClientId = str('SESAME_BOOTSTRAP_CLIENT_ID');
  const bootstrapClientSecret = str('SESAME_BOOTSTRAP_CLIENT_SECRET');
  if ((bootstrapClientId === undefined) !== (bootstrapClientSecret === undefined)) {
    errors.push('SESAME_BOOTSTRAP_CLIENT_ID and SESAME_BOOTSTRAP_CLIENT_SECRET must be set together');
  }
  if (bootstrapClientId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(bootstrapClientId)) {
    errors.push('SESAME_BOOTSTRAP_CLIENT_ID must be 1-64 characters of A-Z a-z 0-9 _ . -');
  }
  if (bootstrapClientSecret !== undefined && bootstrapClientSecret.length < 32) {
    errors.push('SESAME_BOOTSTRAP_CLIENT_SECRET must be at least 32 characters');
  }

  const smtpUrl = str('SESAME_SMTP_URL');
  if (smtpUrl !== undefined) {
    try {
      const u = new URL(smtpUrl);
      if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error('scheme');
      if (!u.hostname) throw new Error('host');
    } catch {
      errors.push('SESAME_SMTP_URL must look like smtp://user:pass@host:port or smtps://…');
    }
  }

  const devMail = str('SESAME_DEV_MAIL');
  if (devMail !== undefined && devMail !== 'log') errors.push(`SESAME_DEV_MAIL must be "log" or unset (got "${devMail}")`);

  const logLevel = str('SESAME_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`SESAME_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = str('SESAME_LOG_FORMAT');
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') errors.push(`SESAME_LOG_FORMAT must be json or pretty (got "${logFormat}")`);

  // Origins only: Sesame appends each API's versioned path itself (issue 5 §1, issue 14).
  const origin = (name: string, example: string): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw new Error('not an origin');
      return u.origin;
    } catch {
      errors.push(`${name} must be an http(s) origin such as ${example} (got "${raw}")`);
      return undefined;
    }
  };
  const twilioApiUrl = origin('SESAME_TWILIO_API_URL', 'https://api.twilio.com') ?? 'https://api.twilio.com';
  const emailApiUrls: Partial<Record<ApiProviderName, string>> = {};
  for (const name of API_PROVIDERS) {
    const url = origin(`SESAME_EMAIL_API_URL_${name.toUpperCase()}`, 'http://127.0.0.1:8025');
    if (url !== undefined) emailApiUrls[name] = url;
  }

  const trust = parseTrustProxy(str('SESAME_TRUST_PROXY'));
  if ('error' in trust) errors.push(trust.error);
  // Issue 12: administrators by email. Compared lower-cased, as passwordless identifiers are stored.
  const adminEmails = (str('SESAME_ADMIN_EMAILS') ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  for (const e of adminEmails) if (!/^[^\s@]+@[^\s@]+$/.test(e) || e.length > 320) errors.push(`SESAME_ADMIN_EMAILS: not an email address: "${e.slice(0, 64)}"`);

  const metricsFlag = str('SESAME_METRICS');
  if (metricsFlag !== undefined && metricsFlag !== '0' && metricsFlag !== '1') errors.push(`SESAME_METRICS must be 0 or 1 (got "${metricsFlag}")`);
  const metricsPort = str('SESAME_METRICS_PORT') === undefined ? undefined : int('SESAME_METRICS_PORT', 0, 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) errors.push('SESAME_METRICS_PORT must differ from SESAME_PORT');

  const config: Config = {
    port,
    host,
    issuer,
    issuerExplicit,
    databaseUrl,
    secret,
    secretPrevious: Object.freeze(secretPrevious),
    bootstrapClientId,
    bootstrapClientSecret,
    smtpUrl,
    devMail: devMail === 'log' ? 'log' : undefined,
    emailFrom: str('SESAME_EMAIL_FROM') ?? 'Sesame <no-reply@localhost>',
    tlsCert,
    tlsKey,
    startLimitPerHour: int('SESAME_START_LIMIT_PER_HOUR', 50, 0, 1_000_000_000),
    logLevel,
    logFormat: logFormat as Config['logFormat'],
    mailMaxAttempts: int('SESAME_MAIL_MAX_ATTEMPTS', 6, 1, 100),
    mailRetryBaseMs: int('SESAME_MAIL_RETRY_BASE_MS', 2000, 1, 86_400_000),
    mailPollMs: int('SESAME_MAIL_POLL_MS', 1000, 10, 3_600_000),
    mailPoolSize: int('SESAME_MAIL_POOL_SIZE', 8, 1, 100),
    logRetentionDays: int('SESAME_LOG_RETENTION_DAYS', 30, 0, 36_500),
    twilioApiUrl,
    emailApiUrls: Object.freeze(emailApiUrls),
    emailApiTimeoutMs: int('SESAME_EMAIL_API_TIMEOUT_MS', 10_000, 50, 25_000),
    trustProxy: 'value' in trust ? trust.value : false,
    identifierStartsPerHour: int('SESAME_IDENTIFIER_STARTS_PER_HOUR', 10, 0, 1_000_000_000),
    identifierStartsPerDay: int('SESAME_IDENTIFIER_STARTS_PER_DAY', 30, 0, 1_000_000_000),
    identifierFailureLimit: int('SESAME_IDENTIFIER_FAILURE_LIMIT', 20, 0, 1_000_000),
    identifierMaxDelaySeconds: int('SESAME_IDENTIFIER_MAX_DELAY_SECONDS', 3600, 1, 30 * 86_400),
    twilioTimeoutMs: int('SESAME_TWILIO_TIMEOUT_MS', 10_000, 50, 300_000),
    smsGatewayTimeoutMs: int('SESAME_SMS_GATEWAY_TIMEOUT_MS', 30_000, 50, 300_000),
    adminEmails: Object.freeze([...new Set(adminEmails)]),
    // Two levels up from src/config/ (tsx) and from dist/config/ (the build): the package root.
    adminDir: str('SESAME_ADMIN_DIR') ?? fileURLToPath(new URL('../../admin/dist', import.meta.url)),
    metrics: metricsFlag === '1',
    metricsPort,
    metricsHost: str('SESAME_METRICS_HOST') ?? '127.0.0.1',
    ...overrides,
  };
  if (errors.length > 0) throw new ConfigError(errors);
  return Object.freeze(config);
}
