import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';
import { MAX_PER_PAGE } from './paging.ts';

/**
 * Auth0 Management API resources Sesame has no feature for (issue 14). Tools written for Auth0
 * (auth0-deploy-cli above all) read every resource type a tenant may have; Sesame answers those reads
 * as an Auth0 tenant that does not use the feature would: empty lists, default settings. So an export
 * is complete and valid, and importing it back changes nothing and succeeds. A write that would
 * create or change something is refused with Auth0's own answer for a feature a tenant does not have
 * (403 `feature_not_enabled`), naming the feature: a configuration that uses one fails loudly instead
 * of being accepted and ignored. A write that leaves the default as it is (deploy-cli re-applies every
 * setting it exported) is answered like a successful one.
 */

type Read = (req: FastifyRequest) => unknown;
type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Method = 'GET' | WriteMethod;
type Verb = 'read' | 'create' | 'update' | 'delete';

/** Auth0's verb for each method, unless a route says otherwise (e.g. POST …/secrets is update:hooks). */
const VERB: Record<Method, Verb> = { GET: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

/**
 * A collection that is always empty: its list, its items (404) and its creation (refused). Its scopes
 * are `<verb>:<resource>` as Auth0's reference gives them (create on POST, update on PATCH, …).
 */
interface Collection {
  kind: 'collection';
  path: string;
  list: Read;
  item: string;
  /** Overrides the feature's resource (Auth0 names flows' and their vault connections' scopes apart). */
  resource?: string;
  /** Sub-resources of an item, all 404 since no item exists, with the methods Auth0 has and their verbs. */
  itemPaths?: [string, Partial<Record<Method, Verb>>][];
}

/** A setting that keeps its default: GET shows it, a write equal to it is a no-op, others are refused. */
interface Setting {
  kind: 'setting';
  path: string;
  value: unknown;
  writes: WriteMethod[];
  /** False where Auth0 has no GET for the path (a Guardian factor is written, and listed at /guardian/factors). */
  get?: boolean;
  resource?: string;
}

interface AbsentFeature {
  /** How the refusal names it: "Sesame does not support <feature>". */
  feature: string;
  /** The resource of Auth0's scopes for it: `read:<resource>`, `update:<resource>`, …. */
  resource: string;
  /** Other scopes Auth0 accepts for reads (organizations: read:organizations_summary). */
  alsoRead?: string[];
  parts: (Collection | Setting)[];
}

interface PageQuery {
  page?: string;
  per_page?: string;
  include_totals?: string;
}

const perPageOf = (q: PageQuery) => Math.min(Number(q.per_page ?? 50) || 50, MAX_PER_PAGE);

/** An empty page in Auth0's offset shape: a bare array, or the totals envelope. */
const offsetPage = (key: string): Read => (req) => {
  const q = req.query as PageQuery;
  if (q.include_totals !== 'true') return [];
  return { start: (Number(q.page ?? 0) || 0) * perPageOf(q), limit: perPageOf(q), length: 0, total: 0, [key]: [] };
};

/** An empty page in the newer offset shape (`{start, limit, total, <key>}`) whatever the query. */
const offsetObject = (key: string): Read => (req) => {
  const q = req.query as PageQuery;
  return { start: (Number(q.page ?? 0) || 0) * perPageOf(q), limit: perPageOf(q), total: 0, [key]: [] };
};

/** An empty checkpoint page (`{<key>: []}`, no `next`). */
const checkpoint = (key: string): Read => () => ({ [key]: [] });

/** An empty page in the Actions API's shape (`{total, page, per_page, <key>}`). */
const actionsPage = (key: string): Read => (req) => {
  const q = req.query as PageQuery;
  return { total: 0, page: Number(q.page ?? 0) || 0, per_page: perPageOf(q), [key]: [] };
};

const collection = (path: string, item: string, list: Read, more: Partial<Pick<Collection, 'resource' | 'itemPaths'>> = {}): Collection => ({ kind: 'collection', path, item, list, ...more });
const setting = (path: string, value: unknown, writes: WriteMethod[] = ['PUT'], more: Partial<Pick<Setting, 'get' | 'resource'>> = {}): Setting => ({ kind: 'setting', path, value, writes, ...more });

/** The triggers an Auth0 tenant lists even when no action is bound to them. */
const TRIGGERS = ['post-login', 'credentials-exchange', 'pre-user-registration', 'post-user-registration', 'post-change-password', 'send-phone-message', 'password-reset-post-challenge']
  .map((id) => ({ id, version: 'v3', status: 'CURRENT', runtimes: ['node22'], default_runtime: 'node22', compatible_triggers: [] }));

/** Guardian (MFA) factors, all off: Sesame's sign-in is itself the one factor. */
const FACTORS = ['sms', 'push-notification', 'otp', 'email', 'duo', 'webauthn-roaming', 'webauthn-platform', 'recovery-code']
  .map((name) => ({ name, enabled: false, trial_expired: false }));

const ABSENT: AbsentFeature[] = [
  { feature: 'rules', resource: 'rules', parts: [collection('/rules', 'rule', offsetPage('rules'))] },
  { feature: 'rules configs', resource: 'rules_configs', parts: [setting('/rules-configs', [], []), setting('/rules-configs/:key', undefined, ['PUT', 'DELETE'], { get: false })] },
  { feature: 'hooks', resource: 'hooks', parts: [collection('/hooks', 'hook', offsetPage('hooks'), { itemPaths: [['/secrets', { GET: 'read', POST: 'update', PATCH: 'update', DELETE: 'delete' }]] })] },
  {
    feature: 'actions',
    resource: 'actions',
    parts: [
      collection('/actions/actions', 'action', actionsPage('actions'), { itemPaths: [['/deploy', { POST: 'create' }], ['/versions', { GET: 'read' }]] }),
      collection('/actions/modules', 'action module', actionsPage('modules'), { itemPaths: [['/versions', { GET: 'read', POST: 'update' }]] }),
      setting('/actions/triggers', { triggers: TRIGGERS }, []),
      setting('/actions/triggers/:triggerId/bindings', { bindings: [], total: 0, page: 0, per_page: 20 }, ['PATCH']),
    ],
  },
  {
    feature: 'custom domains (Sesame serves the domain of SESAME_ISSUER)',
    resource: 'custom_domains',
    // Auth0 lists custom domains as a bare array, without paging.
    parts: [collection('/custom-domains', 'custom domain', () => [])],
  },
  {
    feature: 'other Universal Login experiences (Sesame serves its own hosted pages)',
    resource: 'prompts',
    parts: [
      // The settings and custom text are served by prompts.ts; page templates and renderers are not.
      setting('/prompts/:prompt/partials', {}),
      setting('/prompts/rendering', { configs: [], start: 0, limit: 50, total: 0 }, []),
      setting('/prompts/:prompt/screen/:screen/rendering', {}, ['PATCH']),
    ],
  },
  {
    feature: 'organizations',
    resource: 'organizations',
    alsoRead: ['read:organizations_summary'],
    parts: [collection('/organizations', 'organization', (req) => ((req.query as { take?: string }).take !== undefined ? { organizations: [] } : offsetPage('organizations')(req)))],
  },
  {
    feature: 'breached password detection (there are no passwords)',
    resource: 'attack_protection',
    parts: [
      setting('/attack-protection/breached-password-detection', {
        enabled: false, shields: [], admin_notification_frequency: [], method: 'standard',
        stage: { 'pre-user-registration': { shields: [] }, 'pre-change-password': { shields: [] } },
      }, ['PATCH']),
    ],
  },
  {
    feature: 'bot detection or CAPTCHA',
    resource: 'attack_protection',
    parts: [
      setting('/attack-protection/bot-detection', { bot_detection_level: 'medium', challenge_password_policy: 'never', challenge_passwordless_policy: 'never', challenge_password_reset_policy: 'never', allowlist: [], monitoring_mode_enabled: false }, ['PATCH']),
      setting('/attack-protection/captcha', { active_provider_id: 'auth_challenge' }, ['PATCH']),
    ],
  },
  {
    feature: 'risk assessment',
    resource: 'attack_protection',
    parts: [setting('/risk-assessments/settings', { enabled: false }, ['PATCH']), setting('/risk-assessments/settings/new-device', { remember_for: 30 }, ['PATCH'])],
  },
  {
    feature: 'forms and flows',
    resource: 'forms',
    parts: [
      collection('/forms', 'form', offsetObject('forms')),
      collection('/flows', 'flow', offsetObject('flows'), { resource: 'flows' }),
      collection('/flows/vault/connections', 'flows vault connection', offsetObject('connections'), { resource: 'flows_vault_connections' }),
    ],
  },
  { feature: 'self-service SSO profiles', resource: 'self_service_profiles', parts: [collection('/self-service-profiles', 'self-service profile', offsetObject('self_service_profiles'))] },
  { feature: 'network ACLs', resource: 'network_acls', parts: [collection('/network-acls', 'network ACL', offsetObject('network_acls'))] },
  { feature: 'token exchange profiles', resource: 'token_exchange_profiles', parts: [collection('/token-exchange-profiles', 'token exchange profile', checkpoint('token_exchange_profiles'))] },
  { feature: 'user attribute profiles', resource: 'user_attribute_profiles', parts: [collection('/user-attribute-profiles', 'user attribute profile', checkpoint('user_attribute_profiles'))] },
  { feature: 'connection profiles', resource: 'connection_profiles', parts: [collection('/connection-profiles', 'connection profile', checkpoint('connection_profiles'))] },
  { feature: 'event streams (use log streams)', resource: 'event_streams', parts: [collection('/event-streams', 'event stream', checkpoint('eventStreams'))] },
  { feature: 'directory provisioning', resource: 'directory_provisionings', parts: [setting('/connections-directory-provisionings', { directory_provisionings: [] }, [])] },
  { feature: 'supplemental signals', resource: 'attack_protection', parts: [setting('/supplemental-signals', { akamai_enabled: false }, ['PATCH'])] },
  {
    feature: 'multi-factor authentication (Guardian)',
    resource: 'guardian_factors',
    parts: [
      setting('/guardian/factors', FACTORS, []),
      ...FACTORS.map((f) => setting(`/guardian/factors/${f.name}`, { enabled: false }, ['PUT'], { get: false })),
      setting('/guardian/policies', [], ['PUT'], { resource: 'mfa_policies' }),
      setting('/guardian/factors/sms/templates', { enrollment_message: '', verification_message: '' }),
      setting('/guardian/factors/phone/templates', { enrollment_message: '', verification_message: '' }),
      setting('/guardian/factors/sms/providers/twilio', {}),
      setting('/guardian/factors/phone/providers/twilio', {}),
      setting('/guardian/factors/push-notification/providers/sns', {}),
      setting('/guardian/factors/push-notification/providers/apns', {}),
      setting('/guardian/factors/push-notification/providers/fcm', {}, ['PUT'], { get: false }),
      setting('/guardian/factors/phone/message-types', { message_types: [] }),
      setting('/guardian/factors/phone/selected-provider', { provider: 'auth0' }),
    ],
  },
];

function notFoundRead(what: string): never {
  throw notFound(`The ${what} does not exist`);
}

/** Auth0's answer for a feature the tenant does not have, with Sesame's reason. */
export const featureNotEnabled = (feature: string) =>
  new ApiError(403, `Sesame does not support ${feature}. Remove it from the configuration you apply.`, 'feature_not_enabled');

/** A write that leaves the setting as it is: PUT/POST the same value, or PATCH only keys it already has. */
function changesNothing(value: unknown, method: WriteMethod, body: unknown): boolean {
  if (method === 'DELETE') return false;
  if (method === 'PATCH' && value && body && typeof value === 'object' && typeof body === 'object' && !Array.isArray(body)) {
    return Object.entries(body).every(([k, v]) => isDeepStrictEqual((value as Record<string, unknown>)[k], v));
  }
  return isDeepStrictEqual(value, body ?? {});
}

export function registerAbsentFeatures(api: FastifyInstance, s: Services): void {
  for (const { feature, resource: featureResource, alsoRead = [], parts } of ABSENT) {
    const refuse = async () => {
      throw featureNotEnabled(feature);
    };
    for (const part of parts) {
      const resource = part.resource ?? featureResource;
      const scope = (verb: Verb) => (verb === 'read' ? requireScopes(s, `read:${resource}`, ...alsoRead) : requireScopes(s, `${verb}:${resource}`));
      if (part.kind === 'setting') {
        if (part.get !== false) api.get(part.path, { onRequest: scope('read') }, async () => part.value);
        for (const method of part.writes) {
          api.route({
            method,
            url: part.path,
            onRequest: scope(VERB[method]),
            handler: async (req) => {
              if (!changesNothing(part.value, method, req.body)) throw featureNotEnabled(feature);
              return part.value;
            },
          });
        }
        continue;
      }
      api.get(part.path, { onRequest: scope('read') }, async (req) => part.list(req));
      api.post(part.path, { onRequest: scope('create') }, refuse);
      const item = `${part.path}/:id`;
      const missing = async () => notFoundRead(part.item);
      api.get(item, { onRequest: scope('read') }, missing);
      api.patch(item, { onRequest: scope('update') }, missing);
      api.delete(item, { onRequest: scope('delete') }, missing);
      for (const [sub, methods] of part.itemPaths ?? []) {
        for (const [method, verb] of Object.entries(methods) as [Method, Verb][]) {
          api.route({ method, url: `${item}${sub}`, onRequest: scope(verb), handler: missing });
        }
      }
    }
  }
}
