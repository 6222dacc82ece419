import type { RequestContext } from './logs.ts';
import { makeLog, passwordlessFields } from './logs.ts';
import type { StartAuth } from './passwordless.ts';
import { type Client, type Connection, type LogEvent, isConfidential } from './model.ts';

export const ENFORCE_FLAG = 'enforce_client_authentication_on_passwordless_start';

/** The feature as the `depnote` names it (spec §2.3; description pattern from DEPNOTE-EX). */
const FEATURE = {
  id: ENFORCE_FLAG,
  name: 'Enforce client authentication for passwordless connections',
  description:
    'Calls to /passwordless/start from confidential applications must authenticate the application with its client secret or a client assertion (or, from the hosted login page, forward the state of the /authorize transaction).',
  documentation: 'https://auth0.com/docs/troubleshoot/product-lifecycle/past-migrations/migrate-to-passwordless',
};

export type StartDecision = { allowed: true; depnote: LogEvent | null } | { allowed: false };

/**
 * The migration rule (spec §2.1, MIG): public clients and authenticated calls pass; an
 * unauthenticated confidential call is refused when the tenant flag is on, and otherwise passes
 * with a deprecation notice that the operator finds with `type:depnote AND description:*passwordless*`.
 */
export function decideStart(
  client: Client,
  method: StartAuth,
  flags: Record<string, boolean>,
  conn: Connection,
  ctx: RequestContext,
  now: number,
): StartDecision {
  if (method !== null || !isConfidential(client)) return { allowed: true, depnote: null };
  if (flags[ENFORCE_FLAG] === true) return { allowed: false };
  return {
    allowed: true,
    depnote: makeLog(
      'depnote',
      ctx,
      {
        ...passwordlessFields(client, conn),
        description: `${FEATURE.name}: This feature is being deprecated. Please see details.feature of this log for more information.`,
        details: { feature: FEATURE, method: 'POST', path: '/passwordless/start' },
      },
      now,
    ),
  };
}
