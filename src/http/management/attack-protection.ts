import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';
import {
  BRUTE_FORCE_DEFAULTS, BRUTE_FORCE_SETTING, type BruteForceSettings, THROTTLING_SETTING, type ThrottlingSettings, type ThrottlingStage,
  bruteForceSettings, throttlingSettings, validAllowlistEntry, withThrottlingDefaults,
} from '../../core/attack-protection.ts';
import { invalidBody } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

/**
 * `/api/v2/attack-protection/brute-force-protection` and `/suspicious-ip-throttling` (issue 14):
 * Auth0's settings for the two protections Sesame has, stored as tenant settings and enforced by
 * core/brute-force.ts and the start limit (core/attack-protection.ts). Field validation follows
 * Auth0's Management API reference (enums, integer ranges, IP/CIDR allowlists, no unknown fields).
 */

/** Auth0 sets no documented maximum; a bound keeps the setting (read on every verification) small. */
const MAX_ALLOWLIST = 1000;

const allowlist = { type: 'array', maxItems: MAX_ALLOWLIST, items: { type: 'string', maxLength: 64 } } as const;
const stage = { type: 'object', additionalProperties: false, properties: { max_attempts: { type: 'integer' }, rate: { type: 'integer' } } } as const;

const bruteForceBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    shields: { type: 'array', items: { type: 'string', enum: ['block', 'user_notification'] } },
    allowlist,
    mode: { type: 'string', enum: ['count_per_identifier_and_ip', 'count_per_identifier'] },
    max_attempts: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

const throttlingBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    shields: { type: 'array', items: { type: 'string', enum: ['block', 'admin_notification'] } },
    allowlist,
    stage: { type: 'object', additionalProperties: false, properties: { 'pre-login': stage, 'pre-user-registration': stage } },
  },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;
const stageView = { type: 'object', properties: { max_attempts: { type: 'integer' }, rate: { type: 'integer' } } } as const;
const bruteForceView = {
  type: 'object',
  properties: { enabled: { type: 'boolean' }, shields: strings, allowlist: strings, mode: { type: 'string' }, max_attempts: { type: 'integer' } },
} as const;
const throttlingView = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' }, shields: strings, allowlist: strings,
    stage: { type: 'object', properties: { 'pre-login': stageView, 'pre-user-registration': stageView } },
  },
} as const;

/** Auth0's ranges per stage (its reference): attempts, and the ms after which one more is granted. */
const STAGE_RANGES: Record<keyof ThrottlingSettings['stage'], Record<keyof ThrottlingStage, [number, number]>> = {
  'pre-login': { max_attempts: [1, 2500], rate: [34_560, 86_400_000] },
  'pre-user-registration': { max_attempts: [1, 72_000], rate: [1200, 86_400_000] },
};

/** z-schema's wording, as for every other validation error (validation.ts). */
const outOfRange = (value: number, [min, max]: [number, number], where: string) =>
  invalidBody(`Payload validation error: 'Value ${value} is ${value < min ? `less than minimum ${min}` : `greater than maximum ${max}`}' on property ${where}.`);

function checkAllowlist(list: readonly string[] | undefined): void {
  list?.forEach((entry, i) => {
    if (!validAllowlistEntry(entry)) {
      throw invalidBody(`Payload validation error: 'Expected an IPv4 or IPv6 address or CIDR block but found ${JSON.stringify(entry.slice(0, 64))}' on property allowlist[${i}].`);
    }
  });
}

/**
 * A stage merged with its patch, within Auth0's ranges. A stage equal to the one in force passes as
 * it is: SESAME_START_LIMIT_PER_HOUR may be set beyond Auth0's ranges, and re-applying an export
 * (auth0-deploy-cli sends every field back) must not fail on Sesame's own default.
 */
function checkedStage(name: keyof ThrottlingSettings['stage'], current: ThrottlingStage, patch: Partial<ThrottlingStage>): ThrottlingStage {
  const merged = { ...current, ...patch };
  if (isDeepStrictEqual(merged, current)) return merged;
  for (const key of ['max_attempts', 'rate'] as const) {
    const range = STAGE_RANGES[name][key];
    if (merged[key] < range[0] || merged[key] > range[1]) throw outOfRange(merged[key], range, `stage.${name}.${key}`);
  }
  return merged;
}

type StagePatch = Partial<Record<keyof ThrottlingSettings['stage'], Partial<ThrottlingStage>>>;
type ThrottlingPatch = Partial<Omit<ThrottlingSettings, 'stage'>> & { stage?: StagePatch };

export function registerAttackProtection(api: FastifyInstance, s: Services): void {
  const BF = '/attack-protection/brute-force-protection';
  const SIT = '/attack-protection/suspicious-ip-throttling';
  const read = requireScopes(s, 'read:attack_protection');
  const update = requireScopes(s, 'update:attack_protection');

  api.get(BF, { onRequest: read, schema: { response: { 200: bruteForceView } } }, () => bruteForceSettings(s));
  api.patch<{ Body: Partial<BruteForceSettings> }>(
    BF,
    { onRequest: update, schema: { body: bruteForceBody, response: { 200: bruteForceView } }, config: { audit: 'Update brute-force protection settings' } },
    async (req) => {
      checkAllowlist(req.body.allowlist);
      // PATCH merges field by field (Auth0); what is stored is the whole setting, so a later change
      // of Sesame's defaults never alters a tenant that chose its values.
      return s.store.updateSetting<BruteForceSettings>(BRUTE_FORCE_SETTING, (stored) => ({ ...BRUTE_FORCE_DEFAULTS, ...stored, ...req.body }));
    },
  );

  api.get(SIT, { onRequest: read, schema: { response: { 200: throttlingView } } }, () => throttlingSettings(s));
  api.patch<{ Body: ThrottlingPatch }>(
    SIT,
    { onRequest: update, schema: { body: throttlingBody, response: { 200: throttlingView } }, config: { audit: 'Update suspicious IP throttling settings' } },
    async (req) => {
      const { stage: stagePatch, ...fields } = req.body;
      checkAllowlist(fields.allowlist);
      // One locked read-modify-write (as /tenants/settings): concurrent PATCHes of different fields both apply.
      return s.store.updateSetting<ThrottlingSettings>(THROTTLING_SETTING, (stored) => {
        const current = withThrottlingDefaults(s.config.startLimitPerHour, stored);
        const next: ThrottlingSettings = { ...current, ...fields, stage: { ...current.stage } };
        for (const name of ['pre-login', 'pre-user-registration'] as const) {
          const patch = stagePatch?.[name];
          if (patch) next.stage[name] = checkedStage(name, current.stage[name], patch);
        }
        return next;
      });
    },
  );
}
