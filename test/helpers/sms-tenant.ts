import { after, before } from 'node:test';
import type { Backend } from './backends.ts';
import { type TestServer, bootServer } from './boot.ts';
import { mgmt } from './management.ts';
import { type SmsGateway, type TwilioServer, startSmsGateway, startTwilioServer } from './sms-servers.ts';

export const GATEWAY_AUTH = { method: 'bearer', subject: 'urn:sesame', audience: 'urn:test-sms-gateway', secret: 'gateway-shared-secret-0123456789abcdef', secret_base64_encoded: false };

export interface SmsTenant {
  server: TestServer;
  twilio: TwilioServer;
  gateway: SmsGateway;
  /** Creates an sms connection through the Management API, enabled for the default app (and `clients`). */
  connection(name: string, options: Record<string, unknown>, clients?: string[]): Promise<{ id: string; name: string; options: Record<string, unknown> }>;
  /** Twilio options for this tenant's Twilio double. */
  twilioOptions(extra?: Record<string, unknown>): Record<string, unknown>;
  gatewayOptions(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Moves the server's clock (guards' windows are sliding). */
  advance(ms: number): void;
  logs(type: string, filter?: (l: any) => boolean): Promise<any[]>;
}

/**
 * One server per describe with a local Twilio double and a local SMS gateway (the other side of the
 * wire, test/helpers/sms-servers.ts), and a clock the test can move. The per-IP start limit is off:
 * these suites send more than 50 starts from 127.0.0.1 on purpose.
 */
export function useSmsTenant(backend: Backend, env: Record<string, string> | (() => Promise<Record<string, string>>) = {}): SmsTenant {
  let offset = 0;
  const ctx = { advance: (ms: number) => void (offset += ms) } as SmsTenant;
  before(async () => {
    ctx.twilio = await startTwilioServer();
    ctx.gateway = await startSmsGateway({ secret: GATEWAY_AUTH.secret, audience: GATEWAY_AUTH.audience, subject: GATEWAY_AUTH.subject });
    ctx.server = await bootServer({
      backend,
      now: () => Date.now() + offset,
      env: { SESAME_TWILIO_API_URL: ctx.twilio.url, SESAME_START_LIMIT_PER_HOUR: '0', ...(typeof env === 'function' ? await env() : env) },
    });
  });
  after(async () => {
    await ctx.server?.close();
    await ctx.twilio?.close();
    await ctx.gateway?.close();
  });
  ctx.twilioOptions = (extra = {}) => ({ provider: 'twilio', twilio_sid: ctx.twilio.accountSid, twilio_token: ctx.twilio.authToken, from: '+15005550006', ...extra });
  ctx.gatewayOptions = (extra = {}) => ({ provider: 'sms_gateway', gateway_url: ctx.gateway.url, gateway_authentication: GATEWAY_AUTH, from: 'Sesame', ...extra });
  ctx.connection = (name, options, clients = []) =>
    mgmt(ctx.server, 'POST', '/connections', { name, strategy: 'sms', options, enabled_clients: [ctx.server.defaultApp.client_id, ...clients] });
  ctx.logs = async (type, filter = () => true) =>
    (await ctx.server.services.store.searchLogs({ query: { kind: 'term', fields: ['type'], value: type, wildcard: false }, page: 0, perPage: 1000, sort: { field: 'date', dir: 'desc' } })).items.filter(filter);
  return ctx;
}

let n = 0;
/**
 * A possible US number whose first 8 digits (country code included) no other call of this process
 * shares, so the per-prefix guard of one test never counts another test's sends.
 */
export function uniquePhone(): string {
  n++;
  const area = 200 + (n % 700);
  const exchange = 200 + Math.floor(n / 700);
  return `+1${area}${exchange}${String(1000 + (process.pid % 9000)).padStart(4, '0')}`;
}
