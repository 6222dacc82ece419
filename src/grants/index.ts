import type { GrantHandler } from './types.ts';
import { authorizationCodeGrant } from './authorization-code.ts';
import { clientCredentialsGrant } from './client-credentials.ts';
import { passwordlessOtpGrant } from './passwordless-otp.ts';
import { refreshTokenGrant } from './refresh-token.ts';

/** grant_type → handler. A new grant is one file plus one line here. */
export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map(
  [authorizationCodeGrant, refreshTokenGrant, passwordlessOtpGrant, clientCredentialsGrant].map((g) => [g.grantType, g]),
);
