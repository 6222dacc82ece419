import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import type { Connection } from '../../core/model.ts';
import { effectiveFraudGuards, validateFraudGuards } from '../../core/fraud-guards.ts';
import { validateTotp } from '../../core/otp.ts';
import { validateSmsOptions } from '../../sms/options.ts';
import { hideSmsSecrets, keepSmsSecrets, sealSmsSecrets, storageOnlyField } from '../../sms/secrets.ts';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import { type EmailOptions, TemplateError, validateEmailTemplate } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';
import {
  type CheckpointInput, type FieldsInput, type PagingInput, allPages, checkpointPage, checkpointQuery, commaList, fieldsQuery, isCheckpoint, listBody, listSchema,
  paging, pagingQuery, projection,
} from './paging.ts';
import { connectionCreateBody, connectionPatchBody, connectionView, enabledClientsPatchBody, enabledClientsView, idParams } from './schemas.ts';

interface ConnectionInput {
  name?: string;
  strategy?: string;
  display_name?: string;
  options?: Record<string, unknown>;
  enabled_clients?: string[];
  realms?: string[];
  is_domain_connection?: boolean;
  metadata?: Record<string, string>;
}

interface ListQuery extends PagingInput, FieldsInput, CheckpointInput {
  strategy?: string[];
  name?: string;
}

/** The strategies Sesame can serve; /passwordless/start refuses anything else (spec §1.1). */
const STRATEGIES = ['email', 'sms'];
const AUTHENTICATION_METHODS = ['code', 'link', 'both'];

const connectionNotFound = () => notFound('The connection does not exist', 'inexistent_connection');

/**
 * `/api/v2/connections` and `/connections/{id}/clients` (spec §4, §5). `enabled_clients` is
 * deprecated by Auth0 but still accepted and returned, so older SDKs and scripts keep working
 * (spec §10.8).
 */
export function registerConnections(api: FastifyInstance, s: Services): void {
  const { store } = s;

  const load = async (id: string) => {
    const conn = await store.getConnection(id);
    if (!conn) throw connectionNotFound();
    return conn;
  };
  /**
   * As Auth0 shows it, except that SMS provider secrets are write-only (sealed at rest and never
   * returned, src/sms/secrets.ts; docs/auth0-compat.md), with the toll-fraud guards in force,
   * defaults included (issue 5 §4), so an operator sees what applies.
   */
  const view = async (c: Connection) => ({
    ...c,
    options: c.strategy === 'sms' ? { ...hideSmsSecrets(c.options), fraud_guards: effectiveFraudGuards(c.options) } : c.options,
    enabled_clients: await store.listEnabledClients(c.id),
  });
  /** What is stored: SMS secrets sealed with the keyring, bound to the connection. */
  const stored = (id: string, strategy: string, options: Record<string, unknown>) => (strategy === 'sms' ? sealSmsSecrets(s.keyring, options, id) : options);

  /** Every listed client must exist: enabling a typo would silently do nothing. */
  const checkClients = async (ids: string[]) => {
    for (const id of ids) if (!(await store.getClient(id))) throw invalidBody(`The client ${id.slice(0, 64)} does not exist`);
  };

  api.get<{ Querystring: ListQuery }>(
    '/connections',
    {
      onRequest: requireScopes(s, 'read:connections'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagingQuery,
            ...fieldsQuery,
            strategy: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 64 } },
            name: { type: 'string', maxLength: 128 },
            ...checkpointQuery,
          },
        },
        response: { 200: listSchema('connections', connectionView, { checkpoint: true }) },
      },
    },
    async (req) => {
      const strategy = commaList(req.query.strategy);
      const filter = { ...(strategy ? { strategy } : {}), ...(req.query.name ? { name: req.query.name } : {}) };
      // Checkpoint paging (from/take) is what auth0-deploy-cli and the v5+ SDKs use; connections are
      // few, so the page is cut from the filtered list in memory, ordered by id.
      if (isCheckpoint(req.query)) {
        const page = checkpointPage(await allPages((p) => store.listConnections({ ...p, ...filter })), (c) => c.id, req.query);
        const views = await Promise.all(page.items.map(view));
        return { connections: views.map(projection(req.query)), ...(page.next ? { next: page.next } : {}) };
      }
      const p = paging(req.query);
      const { items, total } = await store.listConnections({ page: p.page, perPage: p.perPage, ...filter });
      const views = await Promise.all(items.map(view));
      return listBody('connections', views.map(projection(req.query)), total, p);
    },
  );

  api.get<{ Params: { id: string }; Querystring: FieldsInput }>(
    '/connections/:id',
    {
      onRequest: requireScopes(s, 'read:connections'),
      schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: fieldsQuery }, response: { 200: connectionView } },
    },
    async (req) => projection(req.query)(await view(await load(req.params.id))),
  );

  api.post<{ Body: ConnectionInput }>(
    '/connections',
    {
      onRequest: requireScopes(s, 'create:connections'),
      schema: { body: connectionCreateBody, response: { 201: connectionView } },
      config: { audit: 'Create a connection' },
    },
    async (req, reply) => {
      const b = req.body;
      const strategy = b.strategy!;
      if (!STRATEGIES.includes(strategy)) throw invalidBody(`Sesame supports these connection strategies: ${STRATEGIES.join(', ')}`);
      checkOptions(strategy, b.options);
      if (await store.getConnectionByName(b.name!)) throw conflict('A connection with the same name already exists', 'connection_conflict');
      if (b.enabled_clients) await checkClients(b.enabled_clients);
      const now = new Date(s.now()).toISOString();
      const id = `con_${randomId(16)}`;
      const conn: Connection = {
        id,
        name: b.name!,
        strategy,
        ...(b.display_name !== undefined ? { display_name: b.display_name } : {}),
        options: stored(id, strategy, b.options ?? {}),
        realms: b.realms ?? [b.name!],
        is_domain_connection: b.is_domain_connection ?? false,
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        created_at: now,
        updated_at: now,
      };
      try {
        await store.insertConnection(conn);
      } catch (err) {
        // Two creates raced past the name check; the unique index decided.
        if (await store.getConnectionByName(conn.name)) throw conflict('A connection with the same name already exists', 'connection_conflict');
        throw err;
      }
      if (b.enabled_clients?.length) await store.setEnabledClients(conn.id, b.enabled_clients.map((client_id) => ({ client_id, status: true })));
      reply.code(201);
      return view(conn);
    },
  );

  api.patch<{ Params: { id: string }; Body: ConnectionInput }>(
    '/connections/:id',
    {
      onRequest: requireScopes(s, 'update:connections'),
      schema: { params: idParams, body: connectionPatchBody, response: { 200: connectionView } },
      config: { audit: 'Update a connection' },
    },
    async (req) => {
      const current = await load(req.params.id);
      const b = req.body;
      // PATCH replaces the whole `options` object, as on Auth0 (spec §4, PL-GW warning).
      if (b.options !== undefined) checkOptions(current.strategy, b.options);
      // A PATCH that echoes a GET's options keeps working: secrets it leaves out (a GET never shows
      // them) are kept, new ones sealed, guards as given.
      if (b.options !== undefined) {
        b.options = stored(current.id, current.strategy, b.options);
        if (current.strategy === 'sms') b.options = keepSmsSecrets(b.options, current.options);
      }
      if (b.enabled_clients) await checkClients(b.enabled_clients);
      const { enabled_clients: enabled, ...fields } = b;
      const next: Connection = { ...current, ...fields, updated_at: new Date(s.now()).toISOString() };
      await store.updateConnection(next);
      if (enabled) {
        // The deprecated list is the complete set: clients missing from it are disabled.
        const before = await store.listEnabledClients(current.id);
        const changes = [
          ...before.filter((id) => !enabled.includes(id)).map((client_id) => ({ client_id, status: false })),
          ...enabled.map((client_id) => ({ client_id, status: true })),
        ];
        await store.setEnabledClients(current.id, changes);
      }
      return view(next);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/connections/:id',
    { onRequest: requireScopes(s, 'delete:connections'), schema: { params: idParams }, config: { audit: 'Delete a connection' } },
    async (req, reply) => {
      if (!(await store.deleteConnection(req.params.id))) throw connectionNotFound();
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { id: string }; Querystring: { take?: number; from?: string } }>(
    '/connections/:id/clients',
    {
      onRequest: requireScopes(s, 'read:connections'),
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: checkpointQuery,
        },
        response: { 200: enabledClientsView },
      },
    },
    async (req) => {
      await load(req.params.id);
      const page = checkpointPage(await store.listEnabledClients(req.params.id), (id) => id, req.query);
      return { clients: page.items.map((client_id) => ({ client_id })), ...(page.next ? { next: page.next } : {}) };
    },
  );

  api.patch<{ Params: { id: string }; Body: { client_id: string; status: boolean }[] }>(
    '/connections/:id/clients',
    {
      onRequest: requireScopes(s, 'update:connections'),
      schema: { params: idParams, body: enabledClientsPatchBody },
      config: { audit: 'Update the enabled clients of a connection' },
    },
    async (req, reply) => {
      await load(req.params.id);
      await checkClients(req.body.map((c) => c.client_id));
      await store.setEnabledClients(req.params.id, req.body);
      return reply.code(204).send();
    },
  );
}

/**
 * Options of a passwordless connection (spec §4): the OTP settings and typed flags for both; for
 * email the template (parsed now so a broken one is refused here rather than at the next login);
 * for SMS the provider, its template and the toll-fraud guards. Other keys are kept as given, as
 * Auth0 does.
 */
function checkOptions(strategy: string, options: Record<string, unknown> | undefined): void {
  if (options === undefined) return;
  const sealed = storageOnlyField(options);
  if (sealed) throw invalidBody(`options.${sealed} is written by Sesame only: send the secret in the clear and Sesame seals it`);
  const totpError = validateTotp(options.totp);
  if (totpError) throw invalidBody(totpError);
  for (const flag of ['disable_signup', 'brute_force_protection'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw invalidBody(`options.${flag} must be a boolean`);
  }
  if (strategy === 'sms') {
    const error = validateFraudGuards(options.fraud_guards) ?? validateSmsOptions(options);
    if (error) throw invalidBody(error);
    return;
  }
  const method = options.authentication_method;
  if (method !== undefined && (typeof method !== 'string' || !AUTHENTICATION_METHODS.includes(method))) {
    throw invalidBody(`options.authentication_method must be one of ${AUTHENTICATION_METHODS.join(', ')}`);
  }
  const email = options.email;
  if (email === undefined) return;
  if (email === null || typeof email !== 'object' || Array.isArray(email)) throw invalidBody('options.email must be an object');
  try {
    validateEmailTemplate(email as EmailOptions);
  } catch (err) {
    if (err instanceof TemplateError) throw invalidBody(`options.${err.message}`);
    throw err;
  }
}
