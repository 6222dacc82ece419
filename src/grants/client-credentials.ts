import { randomUUID } from 'node:crypto';
import { makeLog } from '../core/logs.ts';
import { requireResourceServer } from '../core/resource-servers.ts';
import type { LogEvent } from '../core/model.ts';
import { OAuthError, badRequest } from '../errors/oauth-error.ts';
import type { GrantContext, GrantHandler } from './types.ts';

const MAX_PARAM = 2048;

const accessDenied = (description: string) => new OAuthError(403, 'access_denied', description);

/**
 * `client_credentials` (RFC 6749 §4.4, spec §5): a machine client gets an access token for an API
 * it holds a client grant for, with the granted scopes it asks for (all of them when it asks for
 * none; scopes it was not granted are dropped). This is how the Management API SDKs get their
 * token. The token endpoint has already authenticated the client and checked its grant_types.
 */
export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  allowPublic: false,
  async handle(ctx) {
    const attempt: { audience?: string; scope?: string } = {};
    try {
      return await exchange(ctx, attempt);
    } catch (err) {
      // LOGCODES `feccft` on every failure of this grant; the error itself goes back unchanged.
      const failure = err instanceof OAuthError ? err : new OAuthError(500, 'server_error', 'Internal Server Error');
      await ctx.s.store
        .appendLogs([log(ctx, 'feccft', attempt, { description: failure.error_description, details: { error: { message: failure.error_description, oauthError: failure.error } } })])
        .catch((logErr: unknown) => ctx.s.log.error({ err: logErr }, 'could not write the feccft log'));
      throw err;
    }
  },
};

async function exchange(ctx: GrantContext, attempt: { audience?: string; scope?: string }): Promise<Record<string, unknown>> {
  const { s, client, body } = ctx;
  const audienceParam = param(body, 'audience');
  const requested = param(body, 'scope');

  // Auth0 falls back to the tenant's default audience (its exact error names it).
  const audience = audienceParam || (await s.store.getTenantSettings()).default_audience;
  if (typeof audience !== 'string' || audience === '') {
    throw accessDenied('No audience parameter was provided, and no default audience has been configured');
  }
  attempt.audience = audience;
  // Issue 4 §4: the audience must be an API (the Management API included), checked before the grant as on Auth0.
  const api = await requireResourceServer(s, audience);

  const [grant] = await s.store.listClientGrants({ clientId: client.client_id, audience });
  if (!grant) {
    throw accessDenied(
      `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
    );
  }
  const wanted = requested?.split(/\s+/).filter(Boolean) ?? [];
  const scope = (wanted.length ? [...new Set(wanted)].filter((sc) => grant.scope.includes(sc)) : grant.scope).join(' ');
  attempt.scope = scope;

  const issuer = s.issuer; // read per request: listen() may set it after binding port 0
  const iat = Math.floor(s.now() / 1000);
  const jti = randomUUID();
  const access_token = await s.keys.sign({
    iss: issuer,
    sub: `${client.client_id}@clients`,
    aud: audience,
    iat,
    exp: iat + api.token_lifetime,
    scope,
    gty: 'client-credentials',
    azp: client.client_id,
    jti,
  });
  // The jti identifies the token in the log (LOGSCHEMA `seccft.details.access_token_jti`); the token itself never is logged.
  await s.store.appendLogs([log(ctx, 'seccft', attempt, { details: { access_token_jti: jti } })]);
  return { access_token, expires_in: api.token_lifetime, scope, token_type: 'Bearer' };
}

function log(ctx: GrantContext, type: 'seccft' | 'feccft', attempt: { audience?: string; scope?: string }, extra: Partial<LogEvent>): LogEvent {
  return makeLog(
    type,
    ctx.req,
    {
      client_id: ctx.client.client_id,
      client_name: ctx.client.name,
      ...(attempt.audience !== undefined ? { audience: attempt.audience } : {}),
      ...(attempt.scope !== undefined ? { scope: attempt.scope } : {}),
      ...extra,
    },
    ctx.s.now(),
  );
}

/** Optional string parameter; anything else (a number in JSON, an array) is a malformed request. */
function param(body: Record<string, unknown>, name: 'audience' | 'scope'): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest('invalid_request', `Invalid parameter: ${name} must be a string`);
  if (v.length > MAX_PARAM) throw badRequest('invalid_request', `Invalid parameter: ${name} is too long`);
  // The audience is looked up and logged in text columns, which PostgreSQL refuses with U+0000.
  if (v.includes('\0')) throw badRequest('invalid_request', `Invalid parameter: ${name}`);
  return v;
}
