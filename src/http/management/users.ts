import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LogQueryError, parseLogQuery } from '../../core/log-query.ts';
import type { Connection, User } from '../../core/model.ts';
import { normalizePhone } from '../../core/phone.ts';
import { ApiError, invalidBody, invalidQuery, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';
import { type FieldsInput, type PagingInput, fieldsQuery, listBody, listSchema, paging, pagingQuery, projection } from './paging.ts';
import { idParams, userCreateBody, userPatchBody, userView } from './schemas.ts';

interface UserInput {
  connection?: string;
  email?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_verified?: boolean;
  blocked?: boolean;
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  name?: string;
  nickname?: string;
  picture?: string;
}

interface ListQuery extends PagingInput, FieldsInput {
  q?: string;
  connection?: string;
  sort?: string;
  search_engine?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Auth0 caps each metadata object at 16 KB of JSON. */
const MAX_METADATA_BYTES = 16 * 1024;

const userNotFound = () => notFound('The user does not exist.', 'inexistent_user');

/**
 * User JSON as Auth0 shows it (spec §4 "Users"): the identity's user_id is the id without its
 * `<provider>|` prefix.
 */
function userJson(u: User) {
  const sep = u.user_id.indexOf('|');
  const provider = sep > 0 ? u.user_id.slice(0, sep) : 'email';
  const { connection, ...rest } = u;
  return { ...rest, identities: [{ connection, user_id: u.user_id.slice(sep + 1), provider, isSocial: false }] };
}

/**
 * `q` for users: `email:"a@b.c"`, `email:a@b.c`, a wildcard `email:jane*`, or the same on
 * `phone_number` (`phone_number:"+14155550100"`, `phone_number:+1415*`). The log-query parser reads
 * the Lucene syntax; anything but a single such clause is refused rather than ignored. Emails are
 * stored in lower case and numbers in E.164, so the value is normalised the same way.
 */
function userQuery(q: string): { emailQuery: string } | { phoneQuery: string } {
  let parsed;
  try {
    parsed = parseLogQuery(q);
  } catch (err) {
    if (err instanceof LogQueryError) throw invalidQuery(err.message);
    throw err;
  }
  if (parsed.kind !== 'term' || parsed.fields.length !== 1 || (parsed.fields[0] !== 'email' && parsed.fields[0] !== 'phone_number')) {
    throw invalidQuery('Sesame supports user queries on email or phone_number only: q=email:"jane@example.com", q=email:jane* or q=phone_number:"+14155550100"');
  }
  if (parsed.fields[0] === 'email') return { emailQuery: parsed.value.toLowerCase() };
  const phone = parsed.value.includes('*') ? undefined : normalizePhone(parsed.value);
  return { phoneQuery: phone?.ok ? phone.e164 : parsed.value };
}

/**
 * Passwordless users are created on their connection only (spec §4 "Users", PL-LIM): `{connection,
 * email, email_verified}` on an email connection, `{connection, phone_number, phone_verified}` on an
 * sms one, the number kept in E.164 as /passwordless/start and the OTP grant normalise it.
 */
function identityOf(conn: Connection, b: UserInput): { provider: 'email' | 'sms' } & Pick<User, 'email' | 'email_verified' | 'phone_number' | 'phone_verified'> {
  const missing = (name: string) => invalidBody(`Payload validation error: 'Missing required property: ${name}'.`);
  if (conn.strategy === 'email') {
    if (b.phone_number !== undefined || b.phone_verified !== undefined) throw invalidBody(`phone_number and phone_verified cannot be set on an email connection (${conn.name})`);
    if (b.email === undefined) throw missing('email');
    const email = b.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw invalidBody('email must be an email address');
    return { provider: 'email', email, email_verified: b.email_verified ?? false };
  }
  if (conn.strategy === 'sms') {
    if (b.email !== undefined || b.email_verified !== undefined) throw invalidBody(`email and email_verified cannot be set on an sms connection (${conn.name})`);
    if (b.phone_number === undefined) throw missing('phone_number');
    const phone = normalizePhone(b.phone_number);
    if (!phone.ok) throw invalidBody(`phone_number must be a phone number in international format, such as +14155550100 (${phone.description})`);
    return { provider: 'sms', phone_number: phone.e164, phone_verified: b.phone_verified ?? false };
  }
  throw invalidBody(`Sesame creates users on email and sms connections only (${conn.name} is ${conn.strategy})`);
}

function checkMetadata(name: string, value: Record<string, unknown> | undefined): void {
  if (value !== undefined && Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES) {
    throw invalidBody(`${name} must not exceed ${MAX_METADATA_BYTES} bytes of JSON`);
  }
}

/** Auth0 merges metadata at the top level; a null value removes the key. */
function mergeMetadata(current: Record<string, unknown>, patch: Record<string, unknown> | undefined): Record<string, unknown> {
  if (patch === undefined) return current;
  const out = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** `/api/v2/users` and `/api/v2/users-by-email` (spec §5) for passwordless email and sms users. */
export function registerUsers(api: FastifyInstance, s: Services): void {
  const { store } = s;
  const load = async (id: string) => {
    const u = await store.getUser(id);
    if (!u) throw userNotFound();
    return u;
  };

  api.get<{ Querystring: ListQuery }>(
    '/users',
    {
      onRequest: requireScopes(s, 'read:users'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagingQuery,
            ...fieldsQuery,
            q: { type: 'string', maxLength: 2000 },
            connection: { type: 'string', maxLength: 128 },
            sort: { enum: ['created_at:1', 'created_at:-1'] },
            // The SDKs may name the engine; v3 is the only one, and it is what Sesame implements.
            search_engine: { enum: ['v3'] },
          },
        },
        response: { 200: listSchema('users', userView) },
      },
    },
    async (req) => {
      const p = paging(req.query);
      const query = req.query.q?.trim() ? userQuery(req.query.q) : {};
      const { items, total } = await store.listUsers({
        page: p.page,
        perPage: p.perPage,
        ...query,
        ...(req.query.connection ? { connection: req.query.connection } : {}),
        sort: req.query.sort === 'created_at:1' ? 'asc' : 'desc',
      });
      return listBody('users', items.map(userJson).map(projection(req.query)), total, p);
    },
  );

  api.get<{ Querystring: FieldsInput & { email: string } }>(
    '/users-by-email',
    {
      onRequest: requireScopes(s, 'read:users'),
      schema: {
        querystring: { type: 'object', additionalProperties: false, required: ['email'], properties: { ...fieldsQuery, email: { type: 'string', minLength: 1, maxLength: 254 } } },
        response: { 200: { type: 'array', items: userView } },
      },
    },
    async (req) => (await store.listUsersByEmail(req.query.email)).map(userJson).map(projection(req.query)),
  );

  api.get<{ Params: { id: string }; Querystring: FieldsInput }>(
    '/users/:id',
    {
      onRequest: requireScopes(s, 'read:users'),
      schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: fieldsQuery }, response: { 200: userView } },
    },
    async (req) => projection(req.query)(userJson(await load(req.params.id))),
  );

  api.post<{ Body: UserInput }>(
    '/users',
    {
      onRequest: requireScopes(s, 'create:users'),
      schema: { body: userCreateBody, response: { 201: userView } },
      config: { audit: 'Create a user' },
    },
    async (req, reply) => {
      const b = req.body;
      const conn = await store.getConnectionByName(b.connection!);
      if (!conn) throw invalidBody('The connection does not exist');
      const { provider, ...identity } = identityOf(conn, b);
      checkMetadata('user_metadata', b.user_metadata);
      checkMetadata('app_metadata', b.app_metadata);
      const now = new Date(s.now()).toISOString();
      const user: User = {
        // The same id shape as users created at their first login (grants/passwordless-otp.ts).
        user_id: `${provider}|${randomBytes(12).toString('hex')}`,
        connection: conn.name,
        ...identity,
        ...(b.blocked !== undefined ? { blocked: b.blocked } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.nickname !== undefined ? { nickname: b.nickname } : {}),
        ...(b.picture !== undefined ? { picture: b.picture } : {}),
        user_metadata: b.user_metadata ?? {},
        app_metadata: b.app_metadata ?? {},
        created_at: now,
        updated_at: now,
        logins_count: 0,
      };
      const { created } = await store.createUserIfAbsent(user);
      if (!created) throw new ApiError(409, 'The user already exists.', 'auth0_idp_error');
      reply.code(201);
      return userJson(user);
    },
  );

  api.patch<{ Params: { id: string }; Body: UserInput }>(
    '/users/:id',
    {
      onRequest: requireScopes(s, 'update:users'),
      schema: { params: idParams, body: userPatchBody, response: { 200: userView } },
      config: { audit: 'Update a user' },
    },
    async (req) => {
      const current = await load(req.params.id);
      const { user_metadata, app_metadata, ...fields } = req.body;
      const next: User = {
        ...current,
        ...fields,
        user_metadata: mergeMetadata(current.user_metadata, user_metadata),
        app_metadata: mergeMetadata(current.app_metadata, app_metadata),
        updated_at: new Date(s.now()).toISOString(),
      };
      checkMetadata('user_metadata', next.user_metadata);
      checkMetadata('app_metadata', next.app_metadata);
      await store.updateUser(next);
      return userJson(next);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/users/:id',
    { onRequest: requireScopes(s, 'delete:users'), schema: { params: idParams }, config: { audit: 'Delete a user' } },
    async (req, reply) => {
      if (!(await store.deleteUser(req.params.id))) throw userNotFound();
      return reply.code(204).send();
    },
  );
}
