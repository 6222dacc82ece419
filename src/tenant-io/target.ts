import { ApiFailure, type ManagementApi } from '../migration/api.ts';
import type { Obj, TenantDoc } from './document.ts';

/**
 * What the target tenant accepts, read from its own `GET /api/v2/openapi.json` (issue 4 §4; Sesame
 * publishes it, generated from the schemas it validates with). An Auth0 tenant carries writable
 * settings Sesame does not implement (`sso_disabled`, `native_social_login`, `sandbox_version`…),
 * and Sesame refuses unknown fields as Auth0 does: left in, the first one would stop the import.
 * They are left out instead, and each is named. A target without the document (Auth0) gets the
 * file as it is.
 */
export type Accepted = Map<string, Set<string>>;

/** The document's section → the operations whose request bodies it is written with. */
const OPERATIONS: Record<string, Array<[string, string]>> = {
  tenant: [['patch', '/api/v2/tenants/settings']],
  clients: [['post', '/api/v2/clients'], ['patch', '/api/v2/clients/{id}']],
  connections: [['post', '/api/v2/connections'], ['patch', '/api/v2/connections/{id}']],
  databases: [['post', '/api/v2/connections'], ['patch', '/api/v2/connections/{id}']],
  resourceServers: [['post', '/api/v2/resource-servers'], ['patch', '/api/v2/resource-servers/{id}']],
  clientGrants: [['post', '/api/v2/client-grants'], ['patch', '/api/v2/client-grants/{id}']],
  emailProvider: [['post', '/api/v2/emails/provider'], ['patch', '/api/v2/emails/provider']],
};
/** Fields a section's items are matched by, kept whatever the schema says. */
const KEYS: Record<string, string[]> = { clients: ['name'], connections: ['name', 'strategy'], databases: ['name', 'strategy'], resourceServers: ['identifier'], clientGrants: ['client_id', 'audience'] };
const LABEL: Record<string, (o: Obj) => string> = {
  tenant: () => 'tenant',
  clients: (o) => `client ${String(o.name)}`,
  connections: (o) => `connection ${String(o.name)}`,
  databases: (o) => `connection ${String(o.name)}`,
  resourceServers: (o) => `resourceServer ${String(o.identifier)}`,
  clientGrants: (o) => `clientGrant ${String(o.client_id)} ${String(o.audience)}`,
  emailProvider: () => 'emailProvider',
};

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The top-level body fields each section may carry at the target, or undefined when the target
 * publishes no OpenAPI document. A section whose schemas allow any field is not listed.
 */
export async function acceptedFields(api: ManagementApi): Promise<Accepted | undefined> {
  let doc: unknown;
  try {
    doc = await api.find<unknown>('openapi.json');
  } catch (err) {
    if (err instanceof ApiFailure) return undefined; // not Sesame: 401/403 on Auth0, or no such route
    throw err;
  }
  if (!isObj(doc) || !isObj(doc.paths)) return undefined;
  const paths = doc.paths;
  const accepted: Accepted = new Map();
  for (const [section, ops] of Object.entries(OPERATIONS)) {
    const fields = new Set<string>(KEYS[section] ?? []);
    let closed = true;
    for (const [method, path] of ops) {
      const op = isObj(paths[path]) ? (paths[path] as Obj)[method] : undefined;
      const schema = isObj(op) && isObj(op.requestBody) && isObj(op.requestBody.content) ? (op.requestBody.content as Obj)['application/json'] : undefined;
      const body = isObj(schema) ? schema.schema : undefined;
      if (!isObj(body) || body.additionalProperties !== false || !isObj(body.properties)) {
        closed = false;
        break;
      }
      for (const k of Object.keys(body.properties)) fields.add(k);
    }
    if (closed) accepted.set(section, fields);
  }
  return accepted;
}

/** `doc` without the top-level fields the target does not accept; `skipped` hears one line per object. */
export function dropUnsupported(doc: TenantDoc, accepted: Accepted, skipped: (line: string) => void): TenantDoc {
  const out: TenantDoc = { ...doc };
  const strip = (section: string, o: Obj): Obj => {
    const fields = accepted.get(section);
    if (!fields) return o;
    const dropped = Object.keys(o).filter((k) => !fields.has(k));
    if (dropped.length === 0) return o;
    skipped(`skip ${LABEL[section]!(o)}: ${dropped.join(', ')} (not supported by the target)`);
    return Object.fromEntries(Object.entries(o).filter(([k]) => fields.has(k)));
  };
  for (const section of ['tenant', 'emailProvider'] as const) {
    const o = doc[section];
    if (o) out[section] = strip(section, o);
  }
  for (const section of ['clients', 'connections', 'databases', 'resourceServers', 'clientGrants'] as const) {
    const list = doc[section];
    if (list) out[section] = list.map((o) => strip(section, o));
  }
  return out;
}
