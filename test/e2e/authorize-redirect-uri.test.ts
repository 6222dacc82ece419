import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { loginSession } from '../helpers/code-flow.ts';
import { createClient } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';

const CALLBACK = 'https://app.example.com/callback';

/**
 * RFC 6749 §3.1.2.3 and RFC 9700 §2.1: /authorize compares redirect_uri with the registered callbacks
 * as exact strings. Anything else must end on Sesame's own 400 page, never in a redirect: the user
 * has a live session here, so a redirect would hand an authorization code to whoever owns the URL.
 * Each URL below slips through a missing check, a prefix match or a normalising match.
 */
const FORGED = [
  'https://attacker.example/callback',
  'https://app.example.com.attacker.example/callback',
  `${CALLBACK}X`,
  `${CALLBACK}/../x`,
  `${CALLBACK}/`,
  `${CALLBACK}?next=https://attacker.example`,
  `${CALLBACK}#x`,
  'https://APP.example.com/callback',
  'http://app.example.com/callback',
];

for (const { backend, skip } of await backendMatrix()) {
  describe(`GET /authorize redirect_uri check [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);
    let client: Client;
    let session: string;

    const authorize = (params: Record<string, string>, cookie = true) =>
      fetch(`${ctx.server.baseUrl}/authorize?${new URLSearchParams({ client_id: client.client_id, response_type: 'code', state: 'st', ...params })}`, {
        redirect: 'manual',
        headers: cookie ? { cookie: `sesame_session=${session}` } : {},
      });

    it('redirects to the registered callback (the control: the session is live)', async () => {
      ({ client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK, 'https://app.example.com/other'], grant_types: ['authorization_code'] }));
      session = (await loginSession(ctx.server, client)).token;
      const res = await authorize({ redirect_uri: CALLBACK });
      assert.equal(res.status, 302);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(`${loc.origin}${loc.pathname}`, CALLBACK);
      assert.ok(loc.searchParams.get('code'));
    });

    for (const uri of FORGED) {
      it(`answers a 400 page and no Location for ${uri}`, async () => {
        for (const withSession of [true, false]) {
          for (const extra of [{}, { response_mode: 'form_post' }, { response_type: 'bogus' }] as Record<string, string>[]) {
            const res = await authorize({ redirect_uri: uri, ...extra }, withSession);
            const body = await res.text();
            const what = `${uri} ${JSON.stringify(extra)} session=${withSession}`;
            assert.equal(res.status, 400, what);
            assert.equal(res.headers.get('location'), null, what);
            assert.match(res.headers.get('content-type') ?? '', /^text\/html/, what);
            assert.ok(body.includes('Callback URL mismatch'), what);
            // form_post would POST the code to the URL from an auto-submitting form instead.
            assert.ok(!/<form[^>]*action=/.test(body), what);
          }
        }
      });
    }

    it('a client with several callbacks must name one; a missing redirect_uri is a 400 page too', async () => {
      const res = await authorize({});
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.ok((await res.text()).includes('Missing required parameter: redirect_uri'));
    });
  });
}
