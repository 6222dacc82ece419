import type { Services } from '../services.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import type { EmailProvider, Store } from '../store/types.ts';
import { EMAIL_PROVIDER_SETTING, providerUsable } from './transport.ts';

/**
 * Development mode prints every message, one-time codes and magic links included, to the log
 * (issue 10 §5). That is right on a laptop and a leak on a server: an `https://` issuer on a host
 * other than localhost looks like production, and there it takes SESAME_DEV_MAIL=log to say so.
 */
export function looksLikeProduction(issuer: string): boolean {
  const u = new URL(issuer);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return u.protocol === 'https:' && !/^(localhost|.+\.localhost|127(\.\d{1,3}){3}|::1)$/i.test(host);
}

/** Printing mail to the log would be a surprise here: production-looking issuer, no SESAME_DEV_MAIL=log. */
export const devMailRefused = (config: Pick<Config, 'issuer' | 'devMail'>): boolean => config.devMail !== 'log' && looksLikeProduction(config.issuer);

export const DEV_MAIL_REFUSAL = (issuer: string) =>
  `No SMTP server is configured (SESAME_SMTP_URL, or an email provider set through /api/v2/emails/provider), so one-time codes and magic links would be printed to the log, and the issuer ${issuer} looks like production. Configure SMTP, or set SESAME_DEV_MAIL=log if printing mail to the log is intended.`;

/** At start: refuses (ConfigError, exit 1) to run development mail where it looks unintended. */
export async function checkDevMail(config: Config, store: Store): Promise<void> {
  if (config.smtpUrl || !devMailRefused(config)) return;
  if (providerUsable(await store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING))) return;
  throw new ConfigError([DEV_MAIL_REFUSAL(config.issuer)]);
}

/**
 * Development mode: no provider (neither an enabled one, SMTP or an email API, set through the Management API nor
 * SESAME_SMTP_URL), so mail goes to the console transport (transport.ts) and the dashboard's
 * development outbox. The same rule as TransportResolver, read from the cached settings.
 */
export async function isDevMode(s: Services): Promise<boolean> {
  if (s.config.smtpUrl) return false;
  return !providerUsable(await s.store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING));
}
