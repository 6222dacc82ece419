import type { Writable } from 'node:stream';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { listen } from '../../src/server.ts';
import type { Services } from '../../src/services.ts';
import type { FastifyInstance } from 'fastify';
import { type Backend, freshDatabase } from './backends.ts';

export const MGMT = { client_id: 'test-mgmt-client', client_secret: 'test-mgmt-secret-0123456789abcdefghijklmnop' };

export interface TestServer {
  baseUrl: string;
  issuer: string;
  app: FastifyInstance;
  services: Services;
  defaultApp: { client_id: string; client_secret: string };
  /** A Management API token with every scope (client_credentials over HTTP). */
  mgmtToken(): Promise<string>;
  /** fetch relative to baseUrl; JSON body helper. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Boots the real server on port 0 (STYLE.md §12) on a fresh database of the given backend. The
 * environment is the product's own: tests change behaviour only through SESAME_* variables.
 */
export async function bootServer(opts: { backend?: Backend; env?: Record<string, string>; now?: () => number; logStream?: Writable } = {}): Promise<TestServer> {
  const db = await freshDatabase(opts.backend ?? 'sqlite');
  const config = loadConfig({
    SESAME_PORT: '0',
    SESAME_HOST: '127.0.0.1',
    SESAME_DATABASE_URL: db.url,
    SESAME_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id,
    SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret,
    SESAME_LOG_LEVEL: process.env.SESAME_TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const { app, services, report } = await buildApp(config, { now: opts.now, ...(opts.logStream ? { logStream: opts.logStream } : {}) });
  const baseUrl = await listen(app, services);
  let token: string | undefined;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return {
    baseUrl,
    issuer: services.issuer,
    app,
    services,
    defaultApp: report.defaultApp!,
    post,
    async mgmtToken() {
      if (token) return token;
      const res = await post('/oauth/token', { grant_type: 'client_credentials', ...MGMT, audience: `${services.issuer}api/v2/` });
      const json = (await res.json()) as { access_token?: string };
      if (!json.access_token) throw new Error(`no management token: ${res.status} ${JSON.stringify(json)}`);
      token = json.access_token;
      return token;
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
