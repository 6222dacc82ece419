import { type ParseArgsConfig, parseArgs } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { ApiFailure, type ConnectionFlags } from './api.ts';

/** The connection flags both migration commands take. */
export const CONNECTION_OPTIONS = {
  domain: { type: 'string' },
  token: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  since: { type: 'string', default: '30d' },
} as const;

/** Where the server is; the default is the local one (migration/local.ts). */
export const DOMAIN_USAGE = `  --domain HOST|URL        host[:port] means https://host[:port]/; or a full URL such as
                           http://localhost:3000 (default: SESAME_ISSUER, else localhost at
                           SESAME_PORT, else the issuer the local server last started with)`;
export const CREDENTIALS_USAGE = `  --client-id ID           …or a client_credentials grant with this client
  --client-secret SECRET   (default: SESAME_BOOTSTRAP_CLIENT_ID/SECRET, else the Management
                           client the local server generated, remembered in its data folder)`;
export const CONNECTION_USAGE = `${DOMAIN_USAGE}
  --token TOKEN            Management API token with read:logs and read:clients
${CREDENTIALS_USAGE}
  --since <n>s|m|h|d|ISO   Window start (default 30d); the window ends now`;

/** parseArgs with strict checking; a usage mistake becomes an ApiFailure (exit 2). */
export function parse<const O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: false as const });
  } catch (err) {
    throw new ApiFailure((err as Error).message);
  }
}

export function connectionFlags(values: Record<string, unknown>): ConnectionFlags {
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return { domain: s('domain'), token: s('token'), clientId: s('client-id'), clientSecret: s('client-secret') };
}
