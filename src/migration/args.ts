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

export const CONNECTION_USAGE = `  --domain host[:port]     Management API at https://host[:port]/ (default: SESAME_ISSUER)
  --token TOKEN            Management API token with read:logs and read:clients
  --client-id ID           …or a client_credentials grant with this client
  --client-secret SECRET   (default: SESAME_BOOTSTRAP_CLIENT_ID/SECRET)
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
