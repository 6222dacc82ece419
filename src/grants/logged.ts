import type { LogEvent } from '../core/model.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import type { GrantContext } from './types.ts';

/**
 * Runs a grant's exchange and, whatever goes wrong, appends its failure logs (`fepotpft`, `feacft`,
 * `fertft`, …; LOGCODES) before the error reaches the client. `attempt` collects what the exchange
 * learnt before it failed. A log that cannot be written never hides the original error.
 */
export async function withFailureLogs<A extends object>(
  ctx: GrantContext,
  attempt: A,
  exchange: (ctx: GrantContext, attempt: A) => Promise<Record<string, unknown>>,
  failureLogs: (failure: OAuthError) => LogEvent[],
): Promise<Record<string, unknown>> {
  try {
    return await exchange(ctx, attempt);
  } catch (err) {
    const failure = err instanceof OAuthError ? err : new OAuthError(500, 'server_error', 'Internal Server Error');
    await ctx.s.store.appendLogs(failureLogs(failure)).catch((logErr: unknown) => ctx.s.log.error({ err: logErr }, 'could not write a failure log'));
    throw err;
  }
}
