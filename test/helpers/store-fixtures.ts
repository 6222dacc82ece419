import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLog } from '../../src/core/logs.ts';
import type { Client, Connection, LogEvent } from '../../src/core/model.ts';
import { openStore } from '../../src/store/index.ts';
import type { CodeRecord, Store } from '../../src/store/types.ts';
import { type Backend, freshDatabase } from './backends.ts';

/**
 * A database that two store instances can open (two processes' worth of connections): a temporary
 * SQLite file (not `:memory:`, which is private to its connection) or a fresh PostgreSQL database.
 */
export async function sharedDatabase(backend: Backend): Promise<{ url: string; open(): Promise<Store>; drop(): Promise<void> }> {
  const stores: Store[] = [];
  let url: string;
  let dropDb: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sesame-store-'));
    url = `sqlite:${join(dir, 'test.db')}`;
    dropDb = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const fresh = await freshDatabase('postgres');
    url = fresh.url;
    dropDb = fresh.drop;
  }
  return {
    url,
    async open() {
      const { store } = await openStore(url);
      stores.push(store);
      return store;
    },
    async drop() {
      for (const s of stores) await s.close();
      await dropDb();
    },
  };
}

export function testClient(id: string, name = 'App'): Client {
  const now = new Date().toISOString();
  return {
    client_id: id, name, description: '', app_type: 'spa', token_endpoint_auth_method: 'none', client_authentication_methods: null,
    grant_types: [], callbacks: [], allowed_origins: [], web_origins: [], allowed_logout_urls: [], is_token_endpoint_ip_header_trusted: false,
    is_first_party: true, oidc_conformant: true, cross_origin_authentication: false, jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000 },
    client_metadata: {}, created_at: now, updated_at: now,
  };
}

export function testConnection(id: string, name: string): Connection {
  const now = new Date().toISOString();
  return { id, name, strategy: 'email', options: {}, realms: [name], is_domain_connection: false, created_at: now, updated_at: now };
}

export function testCode(identifier: string, clientId = 'c1'): CodeRecord {
  const now = Date.now();
  return { connection_id: 'con_1', identifier, client_id: clientId, code_hash: `h-${identifier}`, expires_at: now + 60_000, attempts: 0, params: { scope: 'openid' }, created_at: now };
}

export const testLog = (type = 'cs', fields: Partial<LogEvent> = {}): LogEvent => makeLog(type, null, fields);

/** One event-loop turn: the reference cache re-reads its version after it. */
export const nextTurn = () => new Promise<void>((r) => setImmediate(r));
