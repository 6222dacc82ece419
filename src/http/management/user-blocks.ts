import type { FastifyInstance } from 'fastify';
import { ANY_IP, protectionOn } from '../../core/brute-force.ts';
import { startWindowKeys } from '../../core/identifier-limits.ts';
import { normalizePhone } from '../../core/phone.ts';
import { notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { IdentifierBlock } from '../../store/identifier-limits.ts';
import type { LoginBlock, LoginBlockFilter } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { idParams } from './schemas.ts';

interface BlocksQuery {
  identifier?: string;
  consider_brute_force_enablement?: boolean;
}

const consider = { consider_brute_force_enablement: { type: 'boolean' } } as const;
const identifierQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['identifier'],
  properties: { identifier: { type: 'string', minLength: 1, maxLength: 320 }, ...consider },
} as const;
const byIdQuery = { type: 'object', additionalProperties: false, properties: consider } as const;

/** Auth0's `ListUserBlocksResponseContent`: identifier + IP pairs and their connection. */
const blocksView = {
  type: 'object',
  properties: {
    blocked_for: {
      type: 'array',
      items: { type: 'object', properties: { identifier: { type: 'string' }, ip: { type: 'string' }, connection: { type: 'string' } } },
    },
  },
} as const;

/**
 * The forms a blocked identifier may be stored under: as given, and as a verification normalises it
 * (an email lower-cased, a phone number in E.164), so `?identifier=Jane@Example.com` or
 * `+1 (202) 555-0143` find what `jane@example.com` / `+12025550143` left. A `+` typed unencoded in
 * a query string arrives as a space (application/x-www-form-urlencoded), so a number without its
 * `+` is also tried with one.
 */
function identifierForms(raw: string): string[] {
  const given = raw.trim();
  const forms = new Set([given]);
  if (given.includes('@')) forms.add(given.toLowerCase());
  else {
    for (const candidate of given.startsWith('+') ? [given] : [given, `+${given}`]) {
      const phone = normalizePhone(candidate);
      if (phone.ok) forms.add(phone.e164);
    }
  }
  return [...forms];
}

/**
 * `/api/v2/user-blocks` (spec §7, BFP; Auth0's "User Blocks" endpoints): the (identifier, IP) pairs
 * that brute-force protection blocked (core/brute-force.ts), listed by identifier or by user, and
 * lifted with their failure counts. Scopes as Auth0: `read:users` to list, `update:users` to unblock.
 */
export function registerUserBlocks(api: FastifyInstance, s: Services): void {
  const { store } = s;

  /**
   * Auth0: with `consider_brute_force_enablement`, blocks on a connection whose protection is off are
   * not reported. Issue 10 §2: an identifier's running back-off or start cap holds for every IP, so
   * its item has no `ip` (after the pairs, one per connection and kind).
   */
  async function blockedFor(filter: LoginBlockFilter, considerEnablement: boolean | undefined) {
    const now = s.now();
    let [blocks, wide]: [LoginBlock[], IdentifierBlock[]] = await Promise.all([store.listLoginBlocks(filter, now), store.listIdentifierBlocks(filter, now)]);
    if (considerEnablement) {
      const on = new Map<string, boolean>();
      for (const name of new Set([...blocks, ...wide].map((b) => b.connection))) {
        const conn = await store.getConnectionByName(name);
        on.set(name, conn !== undefined && protectionOn(conn));
      }
      blocks = blocks.filter((b) => on.get(b.connection));
      wide = wide.filter((b) => b.kind === 'starts' || on.get(b.connection));
    }
    return {
      blocked_for: [
        // A block counted per identifier (`mode: count_per_identifier`) holds for every IP: no `ip`.
        ...blocks.map((b) => ({ identifier: b.identifier, ...(b.ip === ANY_IP ? {} : { ip: b.ip }), connection: b.connection })),
        // A back-off and a start cap of one identifier read the same: listed once.
        ...[...new Map(wide.map((b) => [`${b.connection}\n${b.identifier}`, { identifier: b.identifier, connection: b.connection }])).values()],
      ],
    };
  }

  /** Lifts the pairs' blocks and the identifiers' back-offs and start caps, with their counts. */
  async function unblock(filter: LoginBlockFilter) {
    await Promise.all([store.clearLoginBlocks(filter), store.clearIdentifierBlocks(filter, startWindowKeys)]);
  }

  /** A user's identifiers on its own connection: its email and phone number. */
  async function userFilter(id: string): Promise<LoginBlockFilter> {
    const user = await store.getUser(id);
    if (!user) throw notFound('The user does not exist.', 'inexistent_user');
    const identifiers = [user.email, user.phone_number].filter((v): v is string => typeof v === 'string' && v !== '');
    return { identifiers, connection: user.connection };
  }

  api.get<{ Querystring: BlocksQuery }>(
    '/user-blocks',
    { onRequest: requireScopes(s, 'read:users'), schema: { querystring: identifierQuery, response: { 200: blocksView } } },
    async (req) => blockedFor({ identifiers: identifierForms(req.query.identifier!) }, req.query.consider_brute_force_enablement),
  );

  api.delete<{ Querystring: BlocksQuery }>(
    '/user-blocks',
    { onRequest: requireScopes(s, 'update:users'), schema: { querystring: identifierQuery }, config: { audit: 'Unblock a user by identifier' } },
    async (req, reply) => {
      await unblock({ identifiers: identifierForms(req.query.identifier!) });
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { id: string }; Querystring: BlocksQuery }>(
    '/user-blocks/:id',
    { onRequest: requireScopes(s, 'read:users'), schema: { params: idParams, querystring: byIdQuery, response: { 200: blocksView } } },
    async (req) => blockedFor(await userFilter(req.params.id), req.query.consider_brute_force_enablement),
  );

  api.delete<{ Params: { id: string } }>(
    '/user-blocks/:id',
    { onRequest: requireScopes(s, 'update:users'), schema: { params: idParams }, config: { audit: 'Unblock a user' } },
    async (req, reply) => {
      await unblock(await userFilter(req.params.id));
      return reply.code(204).send();
    },
  );
}
