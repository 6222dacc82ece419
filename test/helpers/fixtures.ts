import { generateKeyPairSync } from 'node:crypto';
import { newClient } from '../../src/core/clients.ts';
import { type AppType, type Client, PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import type { TestServer } from './boot.ts';

let n = 0;

/**
 * Creates a client through the store's real insert (the Management API tests cover the HTTP path) and
 * enables it on the `email` connection.
 */
export async function createClient(
  server: TestServer,
  fields: Partial<Client> & { app_type: AppType },
  opts: { enableOn?: string | null } = {},
): Promise<{ client: Client; secret: string }> {
  const s = server.services;
  const made = newClient(s.keyring, { name: `Test App ${++n}`, grant_types: [PASSWORDLESS_OTP_GRANT], ...fields });
  await s.store.insertClient(made.client, made.secretHash);
  const connName = opts.enableOn === undefined ? 'email' : opts.enableOn;
  if (connName) {
    const conn = await s.store.getConnectionByName(connName);
    if (!conn) throw new Error(`no connection ${connName}`);
    await s.store.setEnabledClients(conn.id, [{ client_id: made.client.client_id, status: true }]);
  }
  return { client: made.client, secret: made.secret };
}

/** An RSA key pair for private_key_jwt: the public PEM to register, the private PEM to sign with. */
export function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export const uniqueEmail = (tag = 'user') => `${tag}.${Date.now().toString(36)}.${++n}@example.com`;
