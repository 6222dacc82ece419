import type { Services } from '../services.ts';
import type { EmailProvider } from '../store/types.ts';
import { EMAIL_PROVIDER_SETTING, providerSmtp } from './transport.ts';

/**
 * Development mode: no SMTP provider (neither an enabled one set through the Management API nor
 * SESAME_SMTP_URL), so mail goes to the console transport (transport.ts) and the dashboard's
 * development outbox. The same rule as TransportResolver, read from the cached settings.
 */
export async function isDevMode(s: Services): Promise<boolean> {
  if (s.config.smtpUrl) return false;
  return providerSmtp(await s.store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING)) === undefined;
}
