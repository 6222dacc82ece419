import { randomInt } from 'node:crypto';
import type { Client, Connection, LogEvent } from './model.ts';

let lastMs = 0;
let seq = 0;

/**
 * Auth0 log ids are 56-digit numeric strings (LOGAPI). Ours put the time first so that ordering by
 * log_id is chronological (checkpoint paging relies on it): 2-digit prefix, 15-digit epoch ms,
 * 9-digit per-process sequence, 30 random digits (distinct across processes).
 */
export function newLogId(now = Date.now()): string {
  if (now === lastMs) seq++;
  else {
    lastMs = now;
    seq = 0;
  }
  let rand = '';
  for (let i = 0; i < 3; i++) rand += String(randomInt(10_000_000_000)).padStart(10, '0');
  return `90${String(now).padStart(15, '0')}${String(seq).padStart(9, '0')}${rand}`;
}

/** The smallest log_id stamped at or after `ms`: every log stamped earlier sorts before it. */
export const logIdFloor = (ms: number): string => `90${String(ms).padStart(15, '0')}`;

/** Auth0's log descriptions for the types Sesame writes (LOGCODES). */
export const LOG_DESCRIPTIONS: Record<string, string> = {
  cs: 'Passwordless login code has been sent',
  cls: 'Passwordless login code/link has been sent',
  s: 'Success Login',
  ss: 'Success Signup',
  fs: 'Failed Signup',
  fp: 'Wrong email or verification code.',
  fepotpft: 'Failed exchange of Passwordless OTP for Access Token',
  seccft: 'Client Credentials for Access Token',
  feccft: 'Failed exchange of Client Credentials for Access Token',
  fn: 'Failed Sending Notification',
  api_limit: 'Rate limit exceeded',
  sapi: 'Success API Operation',
};

export interface RequestContext {
  ip: string;
  user_agent?: string;
  hostname?: string;
  auth0_client?: LogEvent['auth0_client'];
}

/** Builds a log event with id, date and the request's context; `fields` may override the description. */
export function makeLog(type: string, ctx: RequestContext | null, fields: Partial<LogEvent> = {}, now = Date.now()): LogEvent {
  return {
    log_id: newLogId(now),
    date: new Date(now).toISOString(),
    type,
    description: LOG_DESCRIPTIONS[type] ?? type,
    ...(ctx ? { ip: ctx.ip, user_agent: ctx.user_agent, hostname: ctx.hostname, ...(ctx.auth0_client ? { auth0_client: ctx.auth0_client } : {}) } : {}),
    isMobile: false,
    ...fields,
  };
}

/**
 * Decodes the `Auth0-Client` telemetry header (spec §8.5): base64url from node-auth0 and auth0-js,
 * standard base64 from auth0-auth-js. Anything malformed is ignored, never an error.
 */
export function decodeTelemetry(header: string | undefined): LogEvent['auth0_client'] | undefined {
  if (!header || header.length > 2048) return undefined;
  try {
    const json = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const o = json as Record<string, unknown>;
    const out: NonNullable<LogEvent['auth0_client']> = {};
    if (typeof o.name === 'string') out.name = o.name.slice(0, 100);
    if (typeof o.version === 'string') out.version = o.version.slice(0, 50);
    if (o.env && typeof o.env === 'object' && !Array.isArray(o.env)) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.env as Record<string, unknown>)) if (typeof v === 'string') env[k.slice(0, 50)] = v.slice(0, 50);
      out.env = env;
    }
    return out.name || out.version ? out : undefined;
  } catch {
    return undefined;
  }
}

/** The application and connection fields every passwordless log carries. */
export function passwordlessFields(client: Pick<Client, 'client_id' | 'name'>, conn: Connection): Partial<LogEvent> {
  return {
    client_id: client.client_id,
    client_name: client.name,
    connection: conn.name,
    connection_id: conn.id,
    strategy: conn.strategy,
    strategy_type: 'passwordless',
  };
}
