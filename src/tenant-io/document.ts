import { isDeepStrictEqual } from 'node:util';
import { ALL_SECRET_FIELDS } from '../mail/providers/catalog.ts';
import { ApiFailure, type ManagementApi } from '../migration/api.ts';
import { sanitizeClient, sanitizeConnection, sanitizeGrant, sanitizeResourceServer, sanitizeTenant, stripConnectionSecrets } from './sanitize.ts';

/**
 * A tenant in auth0-deploy-cli's layout (issue 4 §3): `tenant`, `clients`, `connections`,
 * `databases` (the `auth0`-strategy connections, which deploy-cli keeps apart), `resourceServers`,
 * `clientGrants`, `emailProvider`. Clients are referenced by name (a grant's `client_id`, a
 * connection's `enabled_clients`), so a document moves between tenants whose ids differ. Fields a
 * tenant assigns or refuses on write are left out (sanitize.ts).
 */
export type Obj = Record<string, unknown>;
export interface TenantDoc {
  tenant?: Obj;
  clients?: Obj[];
  connections?: Obj[];
  databases?: Obj[];
  resourceServers?: Obj[];
  clientGrants?: Obj[];
  emailProvider?: Obj;
}
export const SECTIONS = ['tenant', 'clients', 'connections', 'databases', 'resourceServers', 'clientGrants', 'emailProvider'] as const;
/** deploy-cli's `databases`: the connections of Auth0's database strategy. */
export const isDatabase = (connection: Obj) => connection.strategy === 'auth0';

/** The tenant as a document plus the ids the import needs to address what it changes. */
export interface Snapshot {
  doc: Required<Omit<TenantDoc, 'emailProvider' | 'databases'>> & { databases?: Obj[]; emailProvider?: Obj };
  clientIds: Map<string, string>;
  connectionIds: Map<string, string>;
  resourceServerIds: Map<string, string>;
  /** `client name \n audience` → grant id. */
  grantIds: Map<string, string>;
  /** Management API clients: never exported, matched, changed or pruned. */
  protectedClientIds: Set<string>;
}

export const grantKey = (client: string, audience: string) => `${client}\n${audience}`;

/** Every item of an Auth0 list, page by page (`include_totals` gives the total to stop at). */
async function listAll(api: ManagementApi, path: string, key: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (let page = 0; ; page++) {
    const body = await api.get<Obj>(path, { page: String(page), per_page: '100', include_totals: 'true' });
    const items = Array.isArray(body) ? (body as Obj[]) : ((body[key] as Obj[] | undefined) ?? []);
    out.push(...items);
    const total = typeof body.total === 'number' ? body.total : out.length;
    if (items.length === 0 || out.length >= total || Array.isArray(body)) return out;
  }
}

const omit = (o: Obj, keys: string[]): Obj => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const byName = (a: Obj, b: Obj, key = 'name') => String(a[key]).localeCompare(String(b[key]));

/**
 * Reads the tenant behind `api`. The Management API client is recognised as Sesame creates it at
 * bootstrap and as Auth0's "API Explorer Application" is: `app_type: non_interactive` with a client
 * grant whose audience is the Management API, `<issuer>api/v2/`. It, the dashboard application
 * (`client_metadata.sesame_system: dashboard`), its grants and the system
 * resource servers (`is_system`) are left out: each tenant has its own.
 */
export async function readTenant(api: ManagementApi, opts: { includeSecrets: boolean }): Promise<Snapshot> {
  const mgmtAudience = `${api.conn.base}api/v2/`;
  const [tenant, clients, connections, resourceServers, grants, emailProvider] = await Promise.all([
    api.get<Obj>('tenants/settings'),
    listAll(api, 'clients', 'clients'),
    listAll(api, 'connections', 'connections'),
    listAll(api, 'resource-servers', 'resource_servers'),
    listAll(api, 'client-grants', 'client_grants'),
    api.find<Obj>('emails/provider'),
  ]);
  const protectedClientIds = new Set([
    ...grants
      .filter((g) => g.audience === mgmtAudience)
      .map((g) => String(g.client_id))
      .filter((id) => clients.some((c) => c.client_id === id && c.app_type === 'non_interactive')),
    // Sesame's dashboard application (issue 12): each tenant has its own, like the Management client.
    ...clients.filter((c) => (c.client_metadata as Obj | undefined)?.sesame_system === 'dashboard').map((c) => String(c.client_id)),
  ]);
  const names = new Map<string, string>();
  const clientIds = new Map<string, string>();
  const docClients: Obj[] = [];
  for (const c of clients) {
    const id = String(c.client_id);
    if (protectedClientIds.has(id)) continue;
    const name = String(c.name);
    if (clientIds.has(name)) throw new ApiFailure(`Two clients are named "${name}" at ${api.conn.base}: clients are matched by name, rename one first.`);
    names.set(id, name);
    clientIds.set(name, id);
    docClients.push(sanitizeClient(c, { keepSecret: opts.includeSecrets }));
  }

  const connectionIds = new Map<string, string>();
  const docConnections = connections.map((c) => {
    connectionIds.set(String(c.name), String(c.id));
    const doc = sanitizeConnection({ ...c, enabled_clients: Array.isArray(c.enabled_clients) ? c.enabled_clients : [] }, (id) => names.get(id));
    return opts.includeSecrets ? doc : stripConnectionSecrets(doc);
  });

  const resourceServerIds = new Map<string, string>();
  const docResourceServers = resourceServers
    .filter((r) => r.is_system !== true)
    .map((r) => {
      resourceServerIds.set(String(r.identifier), String(r.id));
      return sanitizeResourceServer(r);
    });

  const grantIds = new Map<string, string>();
  const docGrants: Obj[] = [];
  for (const g of grants) {
    const name = names.get(String(g.client_id));
    if (name === undefined) continue; // the Management API client's grants, or a dangling one
    grantIds.set(grantKey(name, String(g.audience)), String(g.id));
    docGrants.push({ ...sanitizeGrant(g), client_id: name });
  }

  let provider: Obj | undefined;
  if (emailProvider) {
    // Secrets never leave (Sesame's GET hides them; this is for servers that do not).
    const credentials = omit((emailProvider.credentials as Obj | undefined) ?? {}, [...ALL_SECRET_FIELDS, 'password']);
    provider = { ...emailProvider, credentials };
  }

  const databases = docConnections.filter(isDatabase);
  return {
    doc: {
      tenant: sanitizeTenant(tenant),
      clients: docClients.sort((a, b) => byName(a, b)),
      connections: docConnections.filter((c) => !isDatabase(c)).sort((a, b) => byName(a, b)),
      ...(databases.length ? { databases: databases.sort((a, b) => byName(a, b)) } : {}),
      resourceServers: docResourceServers.sort((a, b) => byName(a, b, 'identifier')),
      clientGrants: docGrants.sort((a, b) => byName(a, b, 'client_id') || byName(a, b, 'audience')),
      ...(provider ? { emailProvider: provider } : {}),
    },
    clientIds,
    connectionIds,
    resourceServerIds,
    grantIds,
    protectedClientIds,
  };
}

/**
 * Whether `current` already has what `desired` says: objects key by key (a field the server adds
 * with its default is not a difference), arrays and values exactly.
 */
export function contains(current: unknown, desired: unknown): boolean {
  if (isPlain(desired) && isPlain(current)) return Object.entries(desired).every(([k, v]) => contains(current[k], v));
  return isDeepStrictEqual(current, desired);
}
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
