/** The authParams remembered with a code or link for the exchange and for verify_redirect. */
const REMEMBERED = ['nonce', 'scope', 'audience', 'state', 'redirect_uri', 'response_type', 'response_mode', 'code_challenge', 'code_challenge_method'];

export function rememberedParams(authParams: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of REMEMBERED) {
    const v = authParams[k];
    if (typeof v === 'string' && v.length <= 2048) out[k] = v;
  }
  return out;
}

/** Only the authParams keys Auth0 logs (LOGSCHEMA), never `_csrf`-like values. */
export function publicAuthParams(p: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const k of ['audience', 'redirect_uri', 'response_type', 'scope', 'state']) if (typeof p[k] === 'string') out[k] = p[k];
  return out;
}

