import type { Keyring } from '../../core/keyring.ts';
import type { EmailProvider } from '../../store/types.ts';
import { type ApiProviderName, apiSecretContext, isApiProvider, PROVIDERS, secretFields } from './catalog.ts';
import type { OpenCredentials } from './requests.ts';

/**
 * The stored form of an API provider: its write-only credentials (`api_key`, `secretAccessKey`,
 * `server_token`) leave `credentials` and are kept only sealed, one per field, in `secrets_enc`
 * (issue 10 §3). A field not given keeps its previous sealed value, so a PATCH of the region
 * does not need the key again; a change of provider (`previous` of another name) keeps nothing.
 */
export function sealApiSecrets(keyring: Keyring, p: EmailProvider, previous: EmailProvider | undefined): EmailProvider {
  const { secrets_enc: _drop, ...rest } = p;
  if (!isApiProvider(p.name)) return rest;
  const secrets: Record<string, string> = previous?.name === p.name ? { ...previous.secrets_enc } : {};
  const credentials = { ...p.credentials };
  for (const field of secretFields(p.name)) {
    const value = credentials[field];
    delete credentials[field];
    if (typeof value === 'string') secrets[field] = keyring.seal(apiSecretContext(p.name, field), value);
  }
  return { ...rest, credentials, ...(Object.keys(secrets).length ? { secrets_enc: secrets } : {}) };
}

/** The write-only fields a stored provider holds (sealed), for "required" checks on PATCH. */
export const sealedFields = (p: EmailProvider | undefined): string[] => Object.keys(p?.secrets_enc ?? {});

/**
 * The credentials the mail worker sends with: stored fields, sealed ones opened, and SES's
 * configuration set (Auth0 keeps it in `settings.message.configuration_set_name`). Undefined when
 * a required field is missing; throws SealError when a sealed one does not open.
 */
export function openApiCredentials(p: EmailProvider, keyring: Keyring | undefined): OpenCredentials | undefined {
  const name = p.name as ApiProviderName;
  const out: Record<string, unknown> = { ...p.credentials };
  for (const [field, sealed] of Object.entries(p.secrets_enc ?? {})) {
    if (keyring) out[field] = keyring.open(apiSecretContext(name, field), sealed);
  }
  const missing = Object.entries(PROVIDERS[name].credentials).some(([field, spec]) => spec.required && (out[field] === undefined || out[field] === ''));
  if (missing) return undefined;
  const set = (p.settings?.message as { configuration_set_name?: unknown } | undefined)?.configuration_set_name;
  if (name === 'ses' && typeof set === 'string' && set !== '') out.configuration_set_name = set;
  return out;
}
