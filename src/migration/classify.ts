import type { Notice } from './notices.ts';

export type Classification = 'backend' | 'browser' | 'login_page';

export interface Application {
  client_id: string;
  client_name: string;
  app_type: string | null;
  count: number;
  first_seen: string;
  last_seen: string;
  ips: string[];
  user_agents: string[];
  sdks: { name: string; version: string | null }[];
  classification: Classification;
  fix: string;
}

/** Auth0's browser SDKs (telemetry names, spec §8.5). */
const BROWSER_SDKS = new Set(['auth0.js', 'lock.js', 'auth0-spa-js', '@auth0/auth0-spa-js']);
/** What browsers put in User-Agent; server HTTP clients (node, undici, curl, okhttp…) do not. */
const BROWSER_UA = /^Mozilla\/5\.0 .*(Gecko|AppleWebKit|Trident)/;

/**
 * One call's kind (issue 4 §1): a hosted or custom login page sends `<sdk>-ulp` telemetry; auth0.js,
 * Lock and auth0-spa-js, or a browser user agent, mean the call runs in a browser; anything else is a
 * server.
 */
export function classify(n: Pick<Notice, 'auth0_client' | 'user_agent'>): Classification {
  const sdk = n.auth0_client?.name ?? '';
  if (sdk.endsWith('-ulp')) return 'login_page';
  if (BROWSER_SDKS.has(sdk) || BROWSER_UA.test(n.user_agent ?? '')) return 'browser';
  return 'backend';
}

/**
 * What to change so the caller authenticates (spec §2.1). node-auth0: from v4.0.0 its
 * AuthenticationClient adds the client secret or assertion to every passwordless call and refuses
 * to call without one (spec §8.1, verified against v4 and v6); v3 may omit it (the gap that
 * node-auth0#458 reported and PR #465 addressed, spec §9).
 */
export function fixFor(kind: Classification, sdks: Application['sdks']): string {
  if (kind === 'login_page') {
    return 'Forward config.internalOptions (the state of the /authorize transaction) in the login page template: pass it to passwordlessStart (auth0.js) or to Lock\'s auth params, as the default template does.';
  }
  if (kind === 'browser') {
    return 'Move the /passwordless/start call to your backend, which sends the client secret (or a client assertion); the browser calls your backend. A browser cannot keep a secret.';
  }
  if (sdks.some((s) => s.name === 'node-auth0')) {
    return 'Upgrade node-auth0 (npm "auth0") to v4.0.0 or later and configure clientSecret (or clientAssertionSigningKey) on AuthenticationClient: from v4 its passwordless calls always include client authentication.';
  }
  return 'Send the client secret (client_secret in the body or HTTP Basic) or a client assertion (private_key_jwt) with /passwordless/start; if your SDK cannot, call the HTTP API directly: POST https://<domain>/passwordless/start {client_id, client_secret, connection, email|phone_number, send}.';
}

/**
 * One entry per (application, kind of caller), most calls first; app types come from `appTypes`
 * (null when the application no longer exists).
 */
export function group(notices: Notice[], appTypes: Map<string, string | null>): Application[] {
  const byKey = new Map<string, Application & { ipSet: Set<string>; uaSet: Set<string>; sdkSet: Map<string, Application['sdks'][number]> }>();
  for (const n of notices) {
    const kind = classify(n);
    const clientId = n.client_id ?? '';
    const key = `${clientId}\u0000${kind}`;
    let app = byKey.get(key);
    if (!app) {
      app = {
        client_id: clientId,
        client_name: n.client_name ?? '',
        app_type: appTypes.get(clientId) ?? null,
        count: 0,
        first_seen: n.date,
        last_seen: n.date,
        ips: [],
        user_agents: [],
        sdks: [],
        classification: kind,
        fix: '',
        ipSet: new Set(),
        uaSet: new Set(),
        sdkSet: new Map(),
      };
      byKey.set(key, app);
    }
    app.count++;
    if (Date.parse(n.date) < Date.parse(app.first_seen)) app.first_seen = n.date;
    if (Date.parse(n.date) >= Date.parse(app.last_seen)) {
      app.last_seen = n.date;
      if (n.client_name) app.client_name = n.client_name; // the latest name wins
    }
    if (n.ip) app.ipSet.add(n.ip);
    if (n.user_agent) app.uaSet.add(n.user_agent);
    const name = n.auth0_client?.name;
    if (name) {
      const version = n.auth0_client?.version ?? null;
      app.sdkSet.set(`${name}@${version ?? ''}`, { name, version });
    }
  }
  return [...byKey.values()]
    .map(({ ipSet, uaSet, sdkSet, ...app }) => {
      const sdks = [...sdkSet.values()].sort((a, b) => a.name.localeCompare(b.name) || String(a.version).localeCompare(String(b.version)));
      return {
        ...app,
        first_seen: new Date(app.first_seen).toISOString(),
        last_seen: new Date(app.last_seen).toISOString(),
        ips: [...ipSet].sort(),
        user_agents: [...uaSet].sort(),
        sdks,
        fix: fixFor(app.classification, sdks),
      };
    })
    .sort((a, b) => b.count - a.count || a.client_name.localeCompare(b.client_name) || a.classification.localeCompare(b.classification));
}
