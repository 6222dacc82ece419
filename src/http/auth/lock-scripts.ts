import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Client, Connection } from '../../core/model.ts';
import type { Services } from '../../services.ts';

/**
 * The JSONP scripts Lock loads before it can render (spec §8.3; auth0-lock 14.3.0
 * `core/client/settings.js`, `core/tenant/settings.js`, `utils/cdn_utils.js`): Lock defines
 * `window.Auth0.setClient` / `setTenant`, injects a `<script>` and waits for the call.
 *
 * - `GET /client/{client_id}.js?t<timestamp>` → `Auth0.setClient({...})`. Lock keeps the call only
 *   if `id` equals its clientID; it reads `tenant` and `subscription` (a `free`/`dev` subscription
 *   shows the Auth0 badge, loaded from a CDN: Sesame says `enterprise`) and `strategies[]` of
 *   `{name, connections: [{name, display_name}]}`, where strategies `email` and `sms` make
 *   passwordless connections (`core/client/index.js`). `authorize`, `callback` and
 *   `hasAllowedOrigins` complete Auth0's own shape.
 * - `GET /info-v1.js` → `Auth0.setTenant({...})`, used by Lock only with `__useTenantInfo` (on a
 *   login page): `connections` keyed by type (Lock iterates its keys, so all of them are present)
 *   and `clientsConnections` {client_id: [connection names]}.
 */
const SUBSCRIPTION = 'enterprise';
const PASSWORDLESS = ['email', 'sms'] as const;

export function registerLockScripts(app: FastifyInstance, s: Services): void {
  app.get('/client/:file', async (req, reply) => {
    const { file } = req.params as { file: string };
    const id = file.endsWith('.js') ? file.slice(0, -3) : '';
    const found = id.length > 0 && id.length <= 128 ? await s.store.getClient(id) : undefined;
    // Nothing from the request is echoed: a comment cannot be closed by a crafted id.
    if (!found) return script(reply.code(404), '/* Unknown client */\n');
    const { client } = found;
    const connections = await passwordlessConnections(s, client);
    const strategies = PASSWORDLESS.map((name) => ({
      name,
      connections: connections.filter((c) => c.strategy === name).map((c) => ({ name: c.name, display_name: c.display_name ?? c.name })),
    })).filter((st) => st.connections.length > 0);
    return script(reply, `Auth0.setClient(${scriptJson({
      id: client.client_id,
      tenant: tenantName(s),
      subscription: SUBSCRIPTION,
      authorize: `${s.issuer}authorize`,
      callback: client.callbacks[0] ?? '',
      hasAllowedOrigins: (client.allowed_origins ?? []).length > 0,
      strategies,
    })});\n`);
  });

  app.get('/info-v1.js', async (_req, reply) => {
    const conns = await listPasswordless(s);
    const clientsConnections: Record<string, string[]> = {};
    for (const conn of conns) {
      for (const clientId of await s.store.listEnabledClients(conn.id)) (clientsConnections[clientId] ??= []).push(conn.name);
    }
    return script(reply, `Auth0.setTenant(${scriptJson({
      name: tenantName(s),
      subscription: SUBSCRIPTION,
      connections: { database: [], enterprise: [], social: [], unknown: [], passwordless: conns.map((c) => ({ name: c.name, strategy: c.strategy })) },
      clientsConnections,
    })});\n`);
  });
}

/**
 * JSON that is safe inside a script: `<` escaped so no value can close the element or open a
 * comment, U+2028/U+2029 escaped because older engines end a string literal there.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Auth0's tenant name is the first label of `<tenant>.auth0.com`; Sesame's is its issuer's. */
export function tenantName(s: Services): string {
  const host = new URL(s.issuer).hostname;
  return /^[\d.]+$/.test(host) ? host : (host.split('.')[0] ?? host);
}

function script(reply: FastifyReply, body: string): FastifyReply {
  // Lock adds a cache-buster anyway; a minute of caching spares repeated loads within a page's life.
  return reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=60').header('x-content-type-options', 'nosniff').send(body);
}

async function listPasswordless(s: Services): Promise<Connection[]> {
  const out: Connection[] = [];
  for (let page = 0; ; page++) {
    const { items } = await s.store.listConnections({ page, perPage: 100, strategy: [...PASSWORDLESS] });
    out.push(...items);
    if (items.length < 100) return out;
  }
}

async function passwordlessConnections(s: Services, client: Client): Promise<Connection[]> {
  const all = await listPasswordless(s);
  const enabled = await Promise.all(all.map((c) => s.store.isConnectionEnabled(c.id, client.client_id)));
  return all.filter((_, i) => enabled[i]);
}
