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

/** A collection that is always empty: its list, its items (404) and its creation (refused). */
interface Collection {
  kind: 'collection';
  path: string;
  list: Read;
  item: string;
  /** Sub-resources of an item, all 404 since no item exists. */
  itemPaths?: string[];
}

/** A setting that keeps its default: GET shows it, a write equal to it is a no-op, others are refused. */
interface Setting {
  kind: 'setting';
  path: string;
  value: unknown;
  writes: WriteMethod[];
}

interface AbsentFeature {
  /** How the refusal names it: "Sesame does not support <feature>". */
  feature: string;
  /** Auth0's read scope for the feature; writes take any of its scopes. */
  scope: string;
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

const collection = (path: string, item: string, list: Read, itemPaths: string[] = []): Collection => ({ kind: 'collection', path, item, list, itemPaths });
const setting = (path: string, value: unknown, writes: WriteMethod[] = ['PUT']): Setting => ({ kind: 'setting', path, value, writes });

/** The triggers an Auth0 tenant lists even when no action is bound to them. */
const TRIGGERS = ['post-login', 'credentials-exchange', 'pre-user-registration', 'post-user-registration', 'post-change-password', 'send-phone-message', 'password-reset-post-challenge']
  .map((id) => ({ id, version: 'v3', status: 'CURRENT', runtimes: ['node22'], default_runtime: 'node22', compatible_triggers: [] }));

/** Guardian (MFA) factors, all off: Sesame's sign-in is itself the one factor. */
const FACTORS = ['sms', 'push-notification', 'otp', 'email', 'duo', 'webauthn-roaming', 'webauthn-platform', 'recovery-code']
  .map((name) => ({ name, enabled: false, trial_expired: false }));

const ABSENT: AbsentFeature[] = [
  { feature: 'rules', scope: 'read:rules', parts: [collection('/rules', 'rule', offsetPage('rules'))] },
  { feature: 'rules configs', scope: 'read:rules_configs', parts: [setting('/rules-configs', [], []), collection('/rules-configs/:key', 'rules config', () => notFoundRead('rules config'))] },
  { feature: 'hooks', scope: 'read:hooks', parts: [collection('/hooks', 'hook', offsetPage('hooks'), ['/secrets'])] },
  {
    feature: 'actions',
    scope: 'read:actions',
    parts: [
      collection('/actions/actions', 'action', actionsPage('actions'), ['/deploy', '/versions']),
      collection('/actions/modules', 'action module', actionsPage('modules'), ['/versions']),
      setting('/actions/triggers', { triggers: TRIGGERS }, []),
      setting('/actions/triggers/:triggerId/bindings', { bindings: [], total: 0, page: 0, per_page: 20 }, ['PATCH']),
    ],
  },
  {
    feature: 'custom domains (Sesame serves the domain of SESAME_ISSUER)',
    scope: 'read:custom_domains',
    parts: [setting('/custom-domains', [], []), collection('/custom-domains/:key', 'custom domain', () => notFoundRead('custom domain'))],
  },
  {
    feature: 'other Universal Login experiences (Sesame serves its own hosted pages)',
    scope: 'read:prompts',
    parts: [
      setting('/prompts', { universal_login_experience: 'new', identifier_first: true, webauthn_platform_first_factor: false }, ['PATCH']),
      setting('/prompts/:prompt/partials', {}),
      setting('/prompts/:prompt/custom-text/:language', {}),
      setting('/prompts/rendering', { configs: [], start: 0, limit: 50, total: 0 }, []),
      setting('/prompts/:prompt/screen/:screen/rendering', {}, ['PATCH']),
    ],
  },
  {
    feature: 'organizations',
    scope: 'read:organizations',
    parts: [collection('/organizations', 'organization', (req) => ((req.query as { take?: string }).take !== undefined ? { organizations: [] } : offsetPage('organizations')(req)))],
  },
  {
    feature: 'breached password detection (there are no passwords)',
    scope: 'read:attack_protection',
    parts: [
      setting('/attack-protection/breached-password-detection', {
        enabled: false, shields: [], admin_notification_frequency: [], method: 'standard',
        stage: { 'pre-user-registration': { shields: [] }, 'pre-change-password': { shields: [] } },
      }, ['PATCH']),
    ],
  },
  {
    feature: 'bot detection or CAPTCHA',
    scope: 'read:attack_protection',
    parts: [
      setting('/attack-protection/bot-detection', { bot_detection_level: 'medium', challenge_password_policy: 'never', challenge_passwordless_policy: 'never', challenge_password_reset_policy: 'never', allowlist: [], monitoring_mode_enabled: false }, ['PATCH']),
      setting('/attack-protection/captcha', { active_provider_id: 'auth_challenge' }, ['PATCH']),
    ],
  },
  {
    feature: 'risk assessment',
    scope: 'read:security_metrics',
    parts: [setting('/risk-assessments/settings', { enabled: false }, ['PATCH']), setting('/risk-assessments/settings/new-device', { remember_for: 30 }, ['PATCH'])],
  },
  {
    feature: 'forms and flows',
    scope: 'read:forms',
    parts: [
      collection('/forms', 'form', offsetObject('forms')),
      collection('/flows', 'flow', offsetObject('flows')),
      collection('/flows/vault/connections', 'flows vault connection', offsetObject('connections')),
    ],
  },
  { feature: 'self-service SSO profiles', scope: 'read:self_service_profiles', parts: [collection('/self-service-profiles', 'self-service profile', offsetObject('self_service_profiles'))] },
  { feature: 'network ACLs', scope: 'read:network_acls', parts: [collection('/network-acls', 'network ACL', offsetObject('network_acls'))] },
  { feature: 'token exchange profiles', scope: 'read:token_exchange_profiles', parts: [collection('/token-exchange-profiles', 'token exchange profile', checkpoint('token_exchange_profiles'))] },
  { feature: 'user attribute profiles', scope: 'read:user_attribute_profiles', parts: [collection('/user-attribute-profiles', 'user attribute profile', checkpoint('user_attribute_profiles'))] },
  { feature: 'connection profiles', scope: 'read:connection_profiles', parts: [collection('/connection-profiles', 'connection profile', checkpoint('connection_profiles'))] },
  { feature: 'event streams (use log streams)', scope: 'read:event_streams', parts: [collection('/event-streams', 'event stream', checkpoint('eventStreams'))] },
  { feature: 'directory provisioning', scope: 'read:directory_provisionings', parts: [setting('/connections-directory-provisionings', { directory_provisionings: [] }, [])] },
  { feature: 'supplemental signals', scope: 'read:attack_protection', parts: [setting('/supplemental-signals', { akamai_enabled: false }, ['PATCH'])] },
  {
    feature: 'multi-factor authentication (Guardian)',
    scope: 'read:guardian_factors',
    parts: [
      setting('/guardian/factors', FACTORS, []),
      ...FACTORS.map((f) => setting(`/guardian/factors/${f.name}`, { enabled: false })),
      setting('/guardian/policies', []),
      setting('/guardian/factors/sms/templates', { enrollment_message: '', verification_message: '' }),
      setting('/guardian/factors/phone/templates', { enrollment_message: '', verification_message: '' }),
      setting('/guardian/factors/sms/providers/twilio', {}),
      setting('/guardian/factors/phone/providers/twilio', {}),
      setting('/guardian/factors/push-notification/providers/sns', {}),
      setting('/guardian/factors/push-notification/providers/apns', {}),
      setting('/guardian/factors/push-notification/providers/fcm', {}),
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
  for (const { feature, scope, parts } of ABSENT) {
    const read = requireScopes(s, scope);
    // Any of the feature's scopes may learn that it is absent; nothing is written either way.
    const write = requireScopes(s, scope, ...['create', 'update', 'delete'].map((verb) => scope.replace(/^read:/, `${verb}:`)));
    const refuse = async () => {
      throw featureNotEnabled(feature);
    };
    for (const part of parts) {
      if (part.kind === 'setting') {
        api.get(part.path, { onRequest: read }, async () => part.value);
        for (const method of part.writes) {
          api.route({
            method,
            url: part.path,
            onRequest: write,
            handler: async (req) => {
              if (!changesNothing(part.value, method, req.body)) throw featureNotEnabled(feature);
              return part.value;
            },
          });
        }
        continue;
      }
      api.get(part.path, { onRequest: read }, async (req) => part.list(req));
      api.post(part.path, { onRequest: write }, refuse);
      const item = `${part.path.replace(/\/:key$/, '')}/:id`;
      if (part.path.endsWith('/:key')) {
        api.route({ method: ['PUT', 'DELETE'], url: part.path, onRequest: write, handler: refuse });
        continue;
      }
      api.get(item, { onRequest: read }, async () => notFoundRead(part.item));
      api.route({ method: ['PATCH', 'DELETE'], url: item, onRequest: write, handler: async () => notFoundRead(part.item) });
      for (const sub of part.itemPaths ?? []) {
        api.route({ method: ['GET', 'POST', 'PATCH', 'DELETE'], url: `${item}${sub}`, onRequest: read, handler: async () => notFoundRead(part.item) });
      }
    }
  }
}
