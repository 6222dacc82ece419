import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { makeLog } from '../core/logs.ts';
import type { Client } from '../core/model.ts';
import { type OriginPattern, clientAllowsOrigin, clientOrigins, compileOrigins, matchesAny, normaliseOrigin } from '../core/origins.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import type { Services } from '../services.ts';
import { requestContext } from './request-context.ts';

/**
 * CORS for the endpoints browser apps call from their own origin (issue 3 §5, spec §3.6, §8.2–8.3).
 * An origin is allowed when the calling client lists it in `allowed_origins` ∪ `web_origins`
 * (core/origins.ts, with Auth0's subdomain wildcards). The client is named by `client_id` in the
 * body (JSON or form; HTTP Basic as a fallback) or, for /userinfo, by the access token's `azp`.
 * Allowed → the origin is echoed with credentials; not allowed → no CORS headers (the browser blocks
 * the response) and an `fco` log. Requests from Sesame's own origin (a custom login page) need no CORS.
 */
const BODY_CLIENT = new Set(['/passwordless/start', '/oauth/token', '/oauth/revoke', '/co/authenticate', '/passwordless/verify']);
const TOKEN_CLIENT = '/userinfo';
/** Lock's phone field asks for the country without naming a client: any client's origin will do. */
const ANY_CLIENT = '/user/geoloc/country';
/** Public documents: readable from anywhere, never with credentials. */
const PUBLIC = new Set(['/.well-known/openid-configuration', '/.well-known/jwks.json', '/info-v1.js']);

const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS = 'Auth0-Client, Content-Type, X-Request-Language, Authorization';
/** Browsers cap it lower (Chromium: 2 h); the actual request is checked per client anyway. */
const MAX_AGE_S = '86400';

/** Positive answers of the any-client union are reused this long; see OriginUnion. */
const UNION_TTL_MS = 60_000;
/** An origin missing from the union triggers a reload at most this often. */
const UNION_MISS_RELOAD_MS = 200;
/** One `fco` log per (client, origin) per minute and process, so a misconfigured app cannot flood the log table. */
const FCO_INTERVAL_MS = 60_000;
const FCO_MAX_KEYS = 10_000;

type Kind = 'body' | 'token' | 'any';

export function installCors(app: FastifyInstance, s: Services): void {
  const union = new OriginUnion(s);
  const fcoSeen = new Map<string, number>();

  // Preflight (Fetch §3.2.2): no body, so no client; allowed when some client allows the origin.
  const preflight = async (req: FastifyRequest, reply: FastifyReply) => {
    addVary(reply);
    const origin = originOf(req);
    if (typeof origin === 'string' && (origin === issuerOrigin(s) || (await union.allows(origin)))) {
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-credentials', 'true')
        .header('access-control-allow-methods', ALLOW_METHODS)
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', MAX_AGE_S)
        .send();
    }
    throw new OAuthError(403, 'access_denied', 'The origin is not in the Allowed Origins of any application');
  };
  for (const path of [...BODY_CLIENT, TOKEN_CLIENT, ANY_CLIENT]) app.options(path, preflight);

  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method === 'OPTIONS') return payload;
    const path = req.url.split('?', 1)[0]!;
    if (PUBLIC.has(path) || (path.startsWith('/client/') && path.endsWith('.js'))) {
      reply.header('access-control-allow-origin', '*');
      return payload;
    }
    const kind: Kind | undefined = BODY_CLIENT.has(path) ? 'body' : path === TOKEN_CLIENT ? 'token' : path === ANY_CLIENT ? 'any' : undefined;
    if (!kind) return payload;
    addVary(reply);
    const origin = originOf(req);
    if (origin === undefined || origin === issuerOrigin(s)) return payload;

    const client = await clientOf(s, req, kind);
    let allowed: boolean;
    if (client) allowed = origin !== null && clientAllowsOrigin(client, origin);
    // Without a client (geoloc; or a body too broken to name one) the any-client union decides, and
    // for the client endpoints only error answers are shared that way: they carry nothing to protect.
    else allowed = origin !== null && (kind === 'any' || reply.statusCode >= 400) && (await union.allows(origin));

    if (allowed) {
      reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true');
    } else if (client) {
      await logRefusedOrigin(s, req, client, rawOrigin(req), fcoSeen);
    }
    return payload;
  });
}

/**
 * The request's Origin: normalised; `null` when present but not an http(s) origin (`null` from a
 * sandboxed frame or a file); undefined when absent (not a CORS request).
 */
export function originOf(req: FastifyRequest): string | null | undefined {
  const raw = req.headers.origin;
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? (normaliseOrigin(raw) ?? null) : null;
}

const rawOrigin = (req: FastifyRequest) => String(req.headers.origin ?? '').slice(0, 300);

/** Sesame's own origin, read at request time (the issuer may be fixed after listen() binds port 0). */
export function issuerOrigin(s: Services): string {
  return new URL(s.issuer).origin;
}

function addVary(reply: FastifyReply) {
  const vary = reply.getHeader('vary');
  if (vary === undefined) reply.header('vary', 'Origin');
  else if (!/\borigin\b/i.test(String(vary))) reply.header('vary', `${String(vary)}, Origin`);
}

async function clientOf(s: Services, req: FastifyRequest, kind: Kind): Promise<Client | undefined> {
  let id: unknown;
  if (kind === 'body') {
    const body = req.body;
    if (body && typeof body === 'object' && !Array.isArray(body)) id = (body as Record<string, unknown>).client_id;
    if (id === undefined) id = basicClientId(req.headers.authorization);
  } else if (kind === 'token') {
    // Only decoded, not verified: it picks whose origins apply. A forged token gets nothing but the
    // 401 that /userinfo answers it; a valid one was verified by the handler before any data left.
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    try {
      if (m) id = decodeJwt(m[1]!).azp;
    } catch {
      id = undefined;
    }
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) return undefined;
  return (await s.store.getClient(id))?.client;
}

function basicClientId(header: string | undefined): string | undefined {
  const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon)); // RFC 6749 §2.3.1: form-urlencoded first
  } catch {
    return undefined;
  }
}

/** LOGCODES `fco` ("Origin is not in the Allowed Origins list"), LOGSCHEMA details `{origin, allowedOrigins}`. */
async function logRefusedOrigin(s: Services, req: FastifyRequest, client: Client, origin: string, seen: Map<string, number>) {
  const now = s.now();
  const key = `${client.client_id}\0${origin}`;
  const last = seen.get(key);
  if (last !== undefined && now - last < FCO_INTERVAL_MS) return;
  if (seen.size >= FCO_MAX_KEYS) seen.clear(); // worst case: one extra log per key
  seen.set(key, now);
  await s.store.appendLogs([
    makeLog('fco', requestContext(req), {
      description: 'Origin is not in the Allowed Origins list for the specified application',
      client_id: client.client_id,
      client_name: client.name,
      details: { origin, allowedOrigins: clientOrigins(client) },
    }, now),
  ]);
}

/**
 * The union of every client's origins, for requests that name no client (preflights, geoloc). The
 * store's reference cache is version-checked but not exposed, so this keeps its own: a positive
 * answer is reused for up to UNION_TTL_MS (an origin removed from every client keeps passing
 * preflights that long, which only lets the browser send a request that is then checked against its
 * client); an origin not found reloads the union first, at most every UNION_MISS_RELOAD_MS (an
 * origin just added is refused at most that long; a flood of unknown origins costs at most one
 * client scan per interval).
 */
class OriginUnion {
  readonly #s: Services;
  #patterns: OriginPattern[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(s: Services) {
    this.#s = s;
  }

  async allows(origin: string): Promise<boolean> {
    const age = Date.now() - this.#loadedAt;
    if (age > UNION_TTL_MS || (age > UNION_MISS_RELOAD_MS && !matchesAny(this.#patterns, origin))) await this.#reload();
    return matchesAny(this.#patterns, origin);
  }

  #reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const entries = new Set<string>();
    const perPage = 100;
    for (let page = 0; ; page++) {
      const { items } = await this.#s.store.listClients({ page, perPage });
      for (const c of items) for (const o of clientOrigins(c)) entries.add(o);
      if (items.length < perPage) break;
    }
    this.#patterns = compileOrigins(entries);
    this.#loadedAt = Date.now();
  }
}
