import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { BRUTE_FORCE_POLICY } from '../../core/brute-force.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

/**
 * Auth0's attack-protection settings for the two protections Sesame has (issue 14): brute-force
 * protection (10 failed verifications per identifier and IP block the pair, core/brute-force.ts)
 * and suspicious-IP throttling (the per-IP `/passwordless/start` limit, SESAME_START_LIMIT_PER_HOUR).
 * GET shows what is in force, in Auth0's shape, so exports describe the real behaviour; a PATCH that
 * keeps it is answered as a success (auth0-deploy-cli re-applies what it exported), one that would
 * change it is refused with the setting to use instead, until these become tenant settings.
 */
export function registerAttackProtection(api: FastifyInstance, s: Services): void {
  const bruteForce = () => ({
    enabled: true,
    shields: ['block'],
    mode: 'count_per_identifier_and_ip',
    allowlist: [],
    max_attempts: BRUTE_FORCE_POLICY.threshold,
  });
  const limit = s.config.startLimitPerHour;
  const stage = (max: number) => ({ max_attempts: max, rate: max > 0 ? Math.round(3_600_000 / max) : 0 });
  const throttling = () => ({
    enabled: limit > 0,
    shields: limit > 0 ? ['block'] : [],
    allowlist: [],
    stage: { 'pre-login': stage(limit), 'pre-user-registration': stage(limit) },
  });
  const settings: [string, () => object, string][] = [
    ['/attack-protection/brute-force-protection', bruteForce, 'per connection with options.brute_force_protection'],
    ['/attack-protection/suspicious-ip-throttling', throttling, 'with SESAME_START_LIMIT_PER_HOUR'],
  ];
  for (const [url, view, instead] of settings) {
    api.get(url, { onRequest: requireScopes(s, 'read:attack_protection') }, async () => view());
    api.patch(url, { onRequest: requireScopes(s, 'update:attack_protection') }, async (req) => {
      const current = view() as Record<string, unknown>;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const same = typeof body === 'object' && !Array.isArray(body) && Object.entries(body).every(([k, v]) => isDeepStrictEqual(current[k], v));
      if (!same) throw new ApiError(400, `This setting is not changed through the Management API on Sesame yet: set it ${instead}.`, 'operation_not_supported');
      return current;
    });
  }
}
