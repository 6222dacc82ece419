import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInUser } from '../../src/core/authorize.ts';
import { type Client, type LogEvent, PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { issueUserTokens } from '../../src/core/tokens.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';

const APP = 'https://app.example.com';
const WEB = 'https://web.example.com';

for (const { backend, skip } of await backendMatrix()) {
  describe(`CORS [${backend}]`, { skip }, () => {
    let server: TestServer;
    let spa: Client;
    let wild: Client;

    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0' } });
      spa = (await createClient(server, { app_type: 'spa', allowed_origins: [APP], web_origins: [`${WEB}/`] })).client;
      wild = (await createClient(server, { app_type: 'spa', allowed_origins: ['https://*.example.org', 'https://pr-*-preview.example.net:8443'] })).client;
    });
    after(async () => {
      await server?.close();
    });

    const start = (client: Client, origin: string | undefined, email = uniqueEmail('cors')) =>
      server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email, send: 'code' }, origin ? { origin, 'user-agent': 'cors-test/1.0' } : {});
    const fcoLogs = async (clientId: string): Promise<LogEvent[]> =>
      (await server.services.store.searchLogs({
        query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: 'fco', wildcard: false }, { kind: 'term', fields: ['client_id'], value: clientId, wildcard: false }] },
        page: 0, perPage: 100, sort: { field: 'date', dir: 'desc' },
      })).items;
    const preflight = (path: string, origin: string) =>
      fetch(`${server.baseUrl}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'auth0-client, content-type' },
      });
    const allowed = (res: Response, origin: string) => {
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
    };
    const refused = (res: Response) => {
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    };

    it('echoes an origin from allowed_origins or web_origins, with credentials and Vary: Origin', async () => {
      const a = await start(spa, APP);
      assert.equal(a.status, 200);
      allowed(a, APP);
      allowed(await start(spa, WEB), WEB); // the configured entry has a trailing slash: ignored, as Auth0 does
    });

    it('sends no CORS headers to another origin and logs fco once per origin and client per minute', async () => {
      const res = await start(spa, 'https://evil.example');
      assert.equal(res.status, 200, 'the request itself is served; the browser withholds the answer');
      refused(res);
      refused(await start(spa, 'https://evil.example'));
      const logs = (await fcoLogs(spa.client_id)).filter((l) => (l.details as { origin: string }).origin === 'https://evil.example');
      assert.equal(logs.length, 1);
      const [fco] = logs;
      assert.equal(fco!.description, 'Origin is not in the Allowed Origins list for the specified application');
      assert.deepEqual(fco!.details, { origin: 'https://evil.example', allowedOrigins: [APP, `${WEB}/`] });
      assert.equal(fco!.client_name, spa.name);
      assert.equal(fco!.ip, '127.0.0.1');
      assert.equal(fco!.user_agent, 'cors-test/1.0');
      // Another origin is its own key.
      refused(await start(spa, 'http://app.example.com'));
      assert.equal((await fcoLogs(spa.client_id)).length, 2);
    });

    it('matches subdomain wildcards as Auth0 does: one label, same scheme and port', async () => {
      for (const origin of ['https://a.example.org', 'https://x-1.example.org', 'https://pr-42-preview.example.net:8443']) allowed(await start(wild, origin), origin);
      for (const origin of ['https://example.org', 'https://a.b.example.org', 'http://a.example.org', 'https://a.example.org:444', 'https://aexample.org', 'https://pr-42-preview.example.net', 'null']) {
        refused(await start(wild, origin));
      }
    });

    it('answers no CORS and logs nothing for Sesame\'s own origin (a custom login page)', async () => {
      const before = (await fcoLogs(spa.client_id)).length;
      const res = await start(spa, new URL(server.issuer).origin);
      assert.equal(res.status, 200);
      refused(res);
      assert.equal((await fcoLogs(spa.client_id)).length, before);
    });

    it('covers /oauth/token (form bodies too) and lets an allowed SPA read errors from a body naming no client', async () => {
      const form = await fetch(`${server.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: spa.client_id, grant_type: PASSWORDLESS_OTP_GRANT, username: 'x@example.com', otp: '1', realm: 'email' }),
      });
      assert.equal(form.status, 403);
      allowed(form, APP);
      const broken = await fetch(`${server.baseUrl}/passwordless/start`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{' });
      assert.equal(broken.status, 400);
      allowed(broken, APP);
      refused(await fetch(`${server.baseUrl}/passwordless/start`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{' }));
    });

    it('decides /userinfo by the access token\'s azp', async () => {
      // A real token from the real core; how it is obtained is other suites' business.
      const s = server.services;
      const { user } = await signInUser(s, spa, (await s.store.getConnectionByName('email'))!, uniqueEmail('ui'), { ip: '127.0.0.1' });
      const { access_token } = await issueUserTokens(s, { client: spa, user, scope: 'openid', authTime: Math.floor(Date.now() / 1000) });
      const get = (origin: string) => fetch(`${server.baseUrl}/userinfo`, { headers: { origin, authorization: `Bearer ${access_token}` } });
      const ok = await get(APP);
      assert.equal(ok.status, 200);
      allowed(ok, APP);
      refused(await get('https://a.example.org')); // allowed for another client only
      assert.ok((await fcoLogs(spa.client_id)).some((l) => (l.details as { origin: string }).origin === 'https://a.example.org'));
    });

    it('answers preflights for origins any client allows, with the fixed methods, headers and max-age', async () => {
      for (const path of ['/co/authenticate', '/passwordless/start', '/oauth/token', '/oauth/revoke', '/userinfo', '/passwordless/verify', '/user/geoloc/country']) {
        const res = await preflight(path, 'https://a.example.org');
        assert.equal(res.status, 204, path);
        assert.equal(res.headers.get('access-control-allow-origin'), 'https://a.example.org');
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
        assert.equal(res.headers.get('access-control-allow-headers'), 'Auth0-Client, Content-Type, X-Request-Language, Authorization');
        assert.equal(res.headers.get('access-control-max-age'), '86400');
      }
      const denied = await preflight('/co/authenticate', 'https://evil.example');
      assert.equal(denied.status, 403);
      refused(denied);
    });

    it('allows a newly configured origin in preflights at once (after a short reload interval)', async () => {
      const origin = `https://new-${Date.now()}.example.com`;
      assert.equal((await preflight('/co/authenticate', origin)).status, 403);
      await createClient(server, { app_type: 'spa', web_origins: [origin] });
      await new Promise((r) => setTimeout(r, 250)); // UNION_MISS_RELOAD_MS = 200
      assert.equal((await preflight('/co/authenticate', origin)).status, 204);
    });

    it('serves discovery, the JWKS and Lock\'s scripts to any origin without credentials', async () => {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/info-v1.js', `/client/${spa.client_id}.js?t123`]) {
        const res = await fetch(`${server.baseUrl}${path}`, { headers: { origin: 'https://anyone.example' } });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.equal(res.headers.get('access-control-allow-credentials'), null);
      }
    });

    it('GET /user/geoloc/country: the Accept-Language region or null, CORS by any client\'s origins', async () => {
      const ask = (acceptLanguage?: string, origin = APP) =>
        fetch(`${server.baseUrl}/user/geoloc/country`, { headers: { origin, ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}) } });
      const fr = await ask('fr-FR,fr;q=0.9,en;q=0.8');
      assert.equal(fr.status, 200);
      allowed(fr, APP);
      assert.deepEqual(await fr.json(), { country_code: 'FR' });
      assert.deepEqual(await (await ask('fr;q=0.9, zh-Hant-TW;q=0.95')).json(), { country_code: 'TW' });
      assert.deepEqual(await (await ask('es-419, de')).json(), { country_code: null });
      assert.deepEqual(await (await ask()).json(), { country_code: null });
      refused(await ask('en-US', 'https://evil.example'));
    });
  });
}
