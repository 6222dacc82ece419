import type { AuthMethod } from '../core/client-auth.ts';
import type { RequestContext } from '../core/logs.ts';
import type { Client } from '../core/model.ts';
import type { Services } from '../services.ts';

/** What the token endpoint hands a grant after parsing and client authentication. */
export interface GrantContext {
  s: Services;
  client: Client;
  /** null = the client presented no credentials (only possible for public clients here). */
  method: AuthMethod | null;
  /** The request body: JSON or form, values as sent (strings for form bodies). */
  body: Record<string, unknown>;
  req: RequestContext;
}

/** One module per grant type (STYLE.md §10.1), dispatched through the registry in grants/index.ts. */
export interface GrantHandler {
  grantType: string;
  /** True when public clients (auth method `none`) may use the grant without credentials. */
  allowPublic: boolean;
  handle(ctx: GrantContext): Promise<Record<string, unknown>>;
}
