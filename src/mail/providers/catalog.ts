/**
 * The email providers as Auth0 names them (`/api/v2/emails/provider`, POST/PATCH reference:
 * "`sendgrid` requires `api_key`; `sparkpost` requires `api_key`, optionally `region` `eu` or
 * `null`; `mailgun` requires `api_key` and `domain`, optionally `region` `eu` or `null`; `ses`
 * requires `accessKeyId`, `secretAccessKey` and `region`; `smtp` requires `smtp_host`,
 * `smtp_port`…"), and what Sesame does with each. One table serves the Management API
 * (validation, which fields are write-only), the mail worker and `sesame export`/`import`.
 *
 * `postmark` is not in Auth0's list (its enum is mailgun, mandrill, sendgrid, ses, sparkpost, smtp,
 * azure_cs, ms365, custom): Sesame adds it under Postmark's own name for its key, `server_token`.
 */

export type ApiProviderName = 'sendgrid' | 'mailgun' | 'ses' | 'postmark' | 'sparkpost';
export type ProviderName = 'smtp' | ApiProviderName;

interface Field {
  check: (v: unknown) => boolean;
  /** What a valid value looks like, for the 400. */
  expect: string;
  required?: boolean;
  /** Write-only: sealed at rest, never in an answer or an export. */
  secret?: boolean;
}

export interface ProviderSpec {
  /** The provider's own name, for logs and errors. */
  label: string;
  credentials: Readonly<Record<string, Field>>;
}

const text = (max: number) => (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= max;
const key = (expect = 'a non-empty string'): Field => ({ check: text(1024), expect, required: true, secret: true });
const euOrNull: Field = { check: (v) => v === null || v === 'eu', expect: '"eu" or null' };
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/;

export const PROVIDERS: Readonly<Record<ProviderName, ProviderSpec>> = {
  smtp: {
    label: 'SMTP',
    credentials: {
      smtp_host: { check: (v) => typeof v === 'string' && HOST.test(v), expect: 'a host name or [IPv6]', required: true },
      smtp_port: { check: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535, expect: 'a port number', required: true },
      smtp_user: { check: (v) => typeof v === 'string' && v.length <= 255, expect: 'a string' },
      // Sealed apart, as `smtp_pass_enc` (email-provider.ts), as it was before API providers.
      smtp_pass: { check: (v) => typeof v === 'string' && v.length <= 1024, expect: 'a string', secret: true },
    },
  },
  sendgrid: { label: 'SendGrid', credentials: { api_key: key() } },
  mailgun: {
    label: 'Mailgun',
    credentials: {
      api_key: key(),
      domain: { check: (v) => typeof v === 'string' && /^[A-Za-z0-9.-]{1,253}$/.test(v), expect: 'a sending domain such as mg.example.com', required: true },
      region: euOrNull,
    },
  },
  ses: {
    label: 'Amazon SES',
    credentials: {
      // An access key id is an identifier, not a secret (AWS prints it in every request's scope).
      accessKeyId: { check: (v) => typeof v === 'string' && /^[A-Z0-9]{16,128}$/.test(v), expect: 'an AWS access key id (AKIA…)', required: true },
      secretAccessKey: key(),
      region: { check: (v) => typeof v === 'string' && /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v), expect: 'an AWS region such as us-east-1', required: true },
    },
  },
  postmark: { label: 'Postmark', credentials: { server_token: key('a Postmark Server API token') } },
  sparkpost: { label: 'SparkPost', credentials: { api_key: key(), region: euOrNull } },
};

export const SUPPORTED = Object.keys(PROVIDERS) as ProviderName[];
export const API_PROVIDERS = SUPPORTED.filter((n): n is ApiProviderName => n !== 'smtp');
/** Auth0 providers Sesame has no sender for: refused by name rather than accepted and ignored. */
export const UNSUPPORTED = ['mandrill', 'azure_cs', 'ms365', 'custom', 'resend'];

export const isProviderName = (name: unknown): name is ProviderName => typeof name === 'string' && Object.hasOwn(PROVIDERS, name);
export const isApiProvider = (name: unknown): name is ApiProviderName => isProviderName(name) && name !== 'smtp';

/** The write-only credential names of a provider (none for an unknown name). */
export const secretFields = (name: unknown): string[] =>
  isProviderName(name) ? Object.entries(PROVIDERS[name].credentials).filter(([, f]) => f.secret).map(([k]) => k) : [];

/** Every write-only credential name, whatever the provider. */
export const ALL_SECRET_FIELDS = [...new Set(SUPPORTED.flatMap(secretFields))];

/** The AAD of one sealed API credential: the purpose `email_provider`, then the field it belongs to. */
export const apiSecretContext = (name: ApiProviderName, field: string) => `email_provider:${name}:${field}`;
