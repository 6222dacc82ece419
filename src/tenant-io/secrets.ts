import { secretFields } from '../mail/providers/catalog.ts';
import type { Obj, TenantDoc } from './document.ts';

/**
 * The secrets a document lacks (issue 11, "Secrets"): a Management API never returns SMS provider
 * secrets, the SMTP password or an email API key (Sesame's GETs leave them out), and an export leaves client secrets
 * out unless asked. Each is named with the `--set` that supplies it at import, so an imported SMS
 * connection does not fail its first start with "Twilio is not configured" unannounced.
 */
export interface MissingSecret {
  section: 'clients' | 'connections' | 'emailProvider';
  /** The client's or connection's name; undefined for the email provider. */
  name?: string;
  /** The `--set` path, e.g. `connections.sms.options.twilio_token`. */
  path: string;
  /** What fails without it. */
  effect: string;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null || v === '';

export function missingSecrets(doc: TenantDoc): MissingSecret[] {
  const out: MissingSecret[] = [];
  for (const c of doc.clients ?? []) {
    // Public applications (`none`; Auth0's default for spa and native) have no secret to lose.
    const method = c.token_endpoint_auth_method ?? (c.app_type === 'spa' || c.app_type === 'native' ? 'none' : undefined);
    if (method === 'none' || !absent(c.client_secret)) continue;
    const name = String(c.name);
    out.push({ section: 'clients', name, path: `clients.${name}.client_secret`, effect: 'a new secret is generated when the client is created, and printed once' });
  }
  for (const c of [...(doc.connections ?? []), ...(doc.databases ?? [])]) {
    if (c.strategy !== 'sms' || !isObj(c.options)) continue;
    const name = String(c.name);
    const o = c.options;
    const provider = o.provider === undefined || o.provider === null ? 'twilio' : o.provider;
    if (provider === 'twilio' && absent(o.twilio_token)) {
      out.push({ section: 'connections', name, path: `connections.${name}.options.twilio_token`, effect: 'it cannot send texts ("Twilio is not configured")' });
    }
    if (provider === 'sms_gateway' && isObj(o.gateway_authentication) && absent(o.gateway_authentication.secret)) {
      out.push({ section: 'connections', name, path: `connections.${name}.options.gateway_authentication.secret`, effect: 'it cannot sign its requests to the gateway' });
    }
  }
  const provider = doc.emailProvider;
  const credentials = isObj(provider?.credentials) ? provider.credentials : {};
  for (const field of secretFields(provider?.name)) {
    if (!absent(credentials[field])) continue;
    const effect = field === 'smtp_pass' ? 'SMTP servers that require a login refuse the mail' : `a new ${String(provider!.name)} provider cannot be created without it (an existing one keeps its own)`;
    out.push({ section: 'emailProvider', path: `emailProvider.credentials.${field}`, effect });
  }
  return out;
}

/** One line for stderr: `connection sms: options.twilio_token is not in the file; … --set …=<value>`. */
export function describeMissing(m: MissingSecret, what: string): string {
  const label = m.section === 'emailProvider' ? 'emailProvider' : `${m.section === 'clients' ? 'client' : 'connection'} ${m.name}`;
  const field = m.path.split('.').slice(m.section === 'emailProvider' ? 1 : 2).join('.');
  return `${label}: ${field} ${what}; ${m.effect}. Supply it at import with --set '${m.path}=<value>'`;
}
