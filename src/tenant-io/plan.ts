import { secretFields } from '../mail/providers/catalog.ts';
import { ApiFailure, type ManagementApi } from '../migration/api.ts';
import { type Obj, type Snapshot, type TenantDoc, contains, grantKey } from './document.ts';
import { keepConnectionSecrets } from './sanitize.ts';

/**
 * One change the import makes. `line` is what --dry-run prints (`create client <name>`); `apply`
 * makes it, in plan order: creates and updates first (clients before the connections and grants
 * that name them), deletions last.
 */
export interface Change {
  line: string;
  apply(api: ManagementApi, ids: Snapshot, out: (s: string) => void): Promise<void>;
}

const differing = (current: Obj, desired: Obj, skip: string[]): Obj =>
  Object.fromEntries(Object.entries(desired).filter(([k, v]) => !skip.includes(k) && !contains(current[k], v)));
const byKey = (list: Obj[], key: (o: Obj) => string) => new Map(list.map((o) => [key(o), o]));
const enc = encodeURIComponent;

/** Client names → ids, failing plainly on a name neither the file nor the tenant has. */
function clientId(ids: Snapshot, name: string, where: string): string {
  const id = ids.clientIds.get(name);
  if (id === undefined) throw new ApiFailure(`${where} names the client "${name}", which is neither in the file nor in the tenant`);
  return id;
}

/** The changes that make the tenant of `current` match `desired` (matched by name / identifier / client+audience). */
export function plan(current: Snapshot, desired: TenantDoc, prune: boolean): Change[] {
  const creates: Change[] = [];
  const deletes: Change[] = [];
  const cur = current.doc;

  if (desired.tenant) {
    const patch = differing(cur.tenant, desired.tenant, []);
    if (Object.keys(patch).length) creates.push({ line: 'update tenant', apply: (api) => api.patch('tenants/settings', patch) });
  }

  const knownClients = new Set([...current.clientIds.keys(), ...(desired.clients ?? []).map((c) => String(c.name))]);
  const curClients = byKey(cur.clients, (c) => String(c.name));
  for (const want of desired.clients ?? []) {
    const name = String(want.name);
    const have = curClients.get(name);
    if (!have) {
      creates.push({
        line: `create client ${name}`,
        apply: async (api, ids, out) => {
          const made = await api.post<Obj>('clients', want);
          ids.clientIds.set(name, String(made.client_id));
          // Printed once: Sesame keeps only a hash of it (spec §5). A public application
          // (`token_endpoint_auth_method: none`) has no secret to use, whatever the server answers.
          const isPublic = (made.token_endpoint_auth_method ?? want.token_endpoint_auth_method) === 'none';
          if (typeof made.client_secret === 'string' && want.client_secret === undefined && !isPublic) out(`  client ${name}: client_id ${String(made.client_id)}, new client_secret ${made.client_secret}`);
        },
      });
      continue;
    }
    // A secret cannot be read back to compare; it is set only when the client is created.
    const patch = differing(have, want, ['name', 'client_secret']);
    if (Object.keys(patch).length) {
      creates.push({ line: `update client ${name}`, apply: (api, ids) => api.patch(`clients/${enc(clientId(ids, name, 'clients'))}`, patch) });
    }
  }

  const curRs = byKey(cur.resourceServers, (r) => String(r.identifier));
  for (const want of desired.resourceServers ?? []) {
    const identifier = String(want.identifier);
    const have = curRs.get(identifier);
    if (!have) creates.push({ line: `create resourceServer ${identifier}`, apply: (api) => api.post('resource-servers', want) });
    else {
      const patch = differing(have, want, ['identifier']);
      if (Object.keys(patch).length) {
        creates.push({ line: `update resourceServer ${identifier}`, apply: (api) => api.patch(`resource-servers/${enc(current.resourceServerIds.get(identifier)!)}`, patch) });
      }
    }
  }

  // deploy-cli's `databases` are connections too (strategy auth0): planned as one list.
  const curConnections = [...cur.connections, ...(cur.databases ?? [])];
  const desiredConnections = desired.connections === undefined && desired.databases === undefined ? undefined : [...(desired.connections ?? []), ...(desired.databases ?? [])];
  const curConns = byKey(curConnections, (c) => String(c.name));
  for (const want of desiredConnections ?? []) {
    const name = String(want.name);
    const enabled = want.enabled_clients;
    if (enabled !== undefined && (!Array.isArray(enabled) || enabled.some((n) => typeof n !== 'string'))) throw new ApiFailure(`connection ${name}: enabled_clients must be a list of client names`);
    for (const n of (enabled as string[] | undefined) ?? []) {
      if (!knownClients.has(n)) throw new ApiFailure(`connection ${name} enables the client "${n}", which is neither in the file nor in the tenant`);
    }
    // Names → ids at apply time (clients created above have ids only then); the Management API
    // client stays enabled where it was, since the file cannot mention it.
    const withIds = (ids: Snapshot, body: Obj, keep: string[]): Obj =>
      enabled === undefined ? body : { ...body, enabled_clients: [...keep, ...(enabled as string[]).map((n) => clientId(ids, n, `connection ${name}`))] };
    const have = curConns.get(name);
    if (!have) {
      creates.push({ line: `create connection ${name}`, apply: (api, ids) => api.post('connections', withIds(ids, want, [])) });
      continue;
    }
    if (have.strategy !== want.strategy) throw new ApiFailure(`connection ${name} is ${String(have.strategy)} in the tenant and ${String(want.strategy)} in the file; a strategy cannot change`);
    const patch = differing(have, { ...want, ...(enabled !== undefined ? { enabled_clients: [...(enabled as string[])].sort() } : {}) }, ['name', 'strategy']);
    if (Object.keys(patch).length) {
      creates.push({
        line: `update connection ${name}`,
        apply: async (api, ids) => {
          const id = current.connectionIds.get(name)!;
          const live = await api.get<Obj>(`connections/${enc(id)}`);
          const keep = ((live.enabled_clients as string[] | undefined) ?? []).filter((c) => ids.protectedClientIds.has(c));
          const body = typeof patch.options === 'object' && patch.options !== null && !Array.isArray(patch.options) ? { ...patch, options: keepConnectionSecrets(patch.options as Obj, live.options) } : patch;
          await api.patch(`connections/${enc(id)}`, withIds(ids, body, keep));
        },
      });
    }
  }

  const curGrants = byKey(cur.clientGrants, (g) => grantKey(String(g.client_id), String(g.audience)));
  for (const want of desired.clientGrants ?? []) {
    const client = String(want.client_id);
    const audience = String(want.audience);
    if (!knownClients.has(client)) throw new ApiFailure(`the client grant for ${audience} names the client "${client}", which is neither in the file nor in the tenant`);
    const have = curGrants.get(grantKey(client, audience));
    if (!have) {
      creates.push({ line: `create clientGrant ${client} ${audience}`, apply: (api, ids) => api.post('client-grants', { ...want, client_id: clientId(ids, client, 'a client grant') }) });
    } else if (!contains(have.scope, want.scope ?? have.scope)) {
      creates.push({ line: `update clientGrant ${client} ${audience}`, apply: (api) => api.patch(`client-grants/${enc(current.grantIds.get(grantKey(client, audience))!)}`, { scope: want.scope }) });
    }
  }

  if (desired.emailProvider) {
    const want = desired.emailProvider;
    const have = cur.emailProvider;
    if (!have) creates.push({ line: 'create emailProvider', apply: (api) => api.post('emails/provider', want) });
    else {
      const patch = differing(have, want, []);
      // Secrets cannot be read back: a supplied one is always written.
      const credentials = (want.credentials as Obj | undefined) ?? {};
      if (secretFields(want.name).some((f) => credentials[f] !== undefined)) patch.credentials = want.credentials;
      if (Object.keys(patch).length) creates.push({ line: 'update emailProvider', apply: (api) => api.patch('emails/provider', patch) });
    }
  }

  if (prune) {
    const keep = (list: Obj[] | undefined, key: (o: Obj) => string) => new Set((list ?? []).map(key));
    const grants = keep(desired.clientGrants, (g) => grantKey(String(g.client_id), String(g.audience)));
    for (const g of cur.clientGrants) {
      const k = grantKey(String(g.client_id), String(g.audience));
      if (!grants.has(k)) deletes.push({ line: `delete clientGrant ${String(g.client_id)} ${String(g.audience)}`, apply: (api) => api.delete(`client-grants/${enc(current.grantIds.get(k)!)}`) });
    }
    const conns = keep(desiredConnections, (c) => String(c.name));
    for (const c of curConnections) {
      const name = String(c.name);
      if (!conns.has(name)) deletes.push({ line: `delete connection ${name}`, apply: (api) => api.delete(`connections/${enc(current.connectionIds.get(name)!)}`) });
    }
    const clients = keep(desired.clients, (c) => String(c.name));
    for (const c of cur.clients) {
      const name = String(c.name);
      if (!clients.has(name)) deletes.push({ line: `delete client ${name}`, apply: (api) => api.delete(`clients/${enc(current.clientIds.get(name)!)}`) });
    }
    const rss = keep(desired.resourceServers, (r) => String(r.identifier));
    for (const r of cur.resourceServers) {
      const identifier = String(r.identifier);
      if (!rss.has(identifier)) deletes.push({ line: `delete resourceServer ${identifier}`, apply: (api) => api.delete(`resource-servers/${enc(current.resourceServerIds.get(identifier)!)}`) });
    }
    if (!desired.emailProvider && cur.emailProvider) deletes.push({ line: 'delete emailProvider', apply: (api) => api.delete('emails/provider') });
  }
  return [...creates, ...deletes];
}
