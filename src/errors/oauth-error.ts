/**
 * Errors of the Authentication API surface (`/passwordless/*`, `/oauth/*`, `/userinfo`). They carry
 * the wire fields; `error-handler.ts` alone turns them into `{error, error_description}`.
 * Codes and strings are Auth0's, byte for byte (spec §1.4, §3.3).
 */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly error_description: string;
  /** Extra body fields, e.g. Auth0's `error_uri` on a disallowed grant. */
  readonly extra: Record<string, string> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    error: string,
    description: string,
    opts: { extra?: Record<string, string>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(description, { cause: opts.cause });
    this.status = status;
    this.error = error;
    this.error_description = description;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }
}

export const badRequest = (error: string, description: string) => new OAuthError(400, error, description);

/** Wrong or missing credentials of a confidential client (auth0/node-auth0#582). */
export const accessDenied = () => new OAuthError(401, 'access_denied', 'Unauthorized');

/** Migration enforcement (spec §1.4; auth0-PHP#431). */
export const clientAuthRequired = () =>
  new OAuthError(403, 'unauthorized_client', 'Client authentication is required');

/** Unknown client on the token endpoint (spec §3.3, ERR-TOKEN). */
export const invalidClient = () => new OAuthError(403, 'unauthorized_client', 'invalid client');

export const grantNotAllowed = (grant: string) =>
  new OAuthError(403, 'unauthorized_client', `Grant type '${grant}' not allowed for the client.`, {
    extra: { error_uri: 'https://auth0.com/docs/clients/client-grant-types' },
  });
