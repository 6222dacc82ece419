import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeLog } from '../../src/core/logs.ts';
import type { LogEvent } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';

/** Parsed response JSON: the tests assert its shape, so it is loosely typed on purpose. */
type Json = Record<string, any>;

/** The depnote Sesame writes for an unauthenticated confidential /passwordless/start (spec §2.3). */
const FEATURE = 'Enforce client authentication for passwordless connections';
const DEPRECATION = `${FEATURE}: This feature is being deprecated. Please see details.feature of this log for more information.`;
const MIGRATION_QUERY = 'type:depnote AND description:*passwordless*';

const at = (iso: string) => Date.parse(iso);
function depnote(clientId: string, iso: string): LogEvent {
  return makeLog(
    'depnote',
    { ip: '203.0.113.7', user_agent: 'node-auth0/4.37.1', hostname: 'sesame.example' },
    {
      description: DEPRECATION,
      client_id: clientId,
      client_name: `App ${clientId}`,
      connection: 'email',
      details: {
        feature: {
          id: 'enforce_client_authentication_on_passwordless_start',
          name: FEATURE,
          description: 'Calls to /passwordless/start from confidential applications must authenticate the client.',
          documentation: 'https://auth0.com/docs/troubleshoot/product-lifecycle/past-migrations/migrate-to-passwordless',
        },
        method: 'POST',
        path: '/passwordless/start',
      },
    },
    at(iso),
  );
}

/** Fixture logs, all in 2025 so the logs the server writes itself (seccft for the token) never mix in. */
const FIXTURES: LogEvent[] = [
  depnote('web1', '2025-01-05T10:00:00Z'),
  depnote('web2', '2025-01-31T23:59:00Z'),
  makeLog('depnote', null, { description: '`oauth/ro` passwordless: This feature is being deprecated', client_id: 'legacy' }, at('2025-02-01T00:00:00Z')),
  makeLog('depnote', null, { description: 'Custom claims: This feature is being deprecated. Please see details.feature of this log for more information.', client_id: 'claims' }, at('2025-02-02T00:00:00Z')),
  makeLog('s', null, { description: 'Success Login', client_id: 'web1', user_name: 'jane@example.com', user_id: 'email|aa' }, at('2025-03-01T08:00:00Z')),
  makeLog('fp', null, { description: 'Wrong email or verification code.', client_id: 'web1', user_name: 'joe@example.com' }, at('2025-03-02T08:00:00Z')),
];
/** Filler for paging and checkpoints: one log a minute through 2025-06-01. */
const FILLER: LogEvent[] = Array.from({ length: 150 }, (_, i) =>
  makeLog('cs', null, { description: 'Passwordless login code has been sent', client_id: 'filler', connection: 'email' }, at('2025-06-01T00:00:00Z') + i * 60_000),
);

for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API logs [${backend}]`, { skip }, () => {
    let server: TestServer;
    let token: string;
    before(async () => {
      server = await bootServer({ backend });
      token = await server.mgmtToken();
      await server.services.store.appendLogs([...FIXTURES, ...FILLER]);
    });
    after(async () => server?.close());

    async function get(path: string): Promise<{ status: number; json: any; link: string | null }> {
      const res = await fetch(path.startsWith('http') ? path : `${server.baseUrl}/api/v2${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: await res.json(), link: res.headers.get('link') };
    }
    const search = async (q: string, extra = '') => {
      const r = await get(`/logs?q=${encodeURIComponent(q)}&per_page=100${extra}`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json as Json[];
    };
    const ids = (logs: Json[]) => logs.map((l) => l.log_id as string);
    const fixture = (i: number) => FIXTURES[i]!.log_id;

    it('finds the passwordless depnotes with the migration guide query, newest first (MIG)', async () => {
      assert.deepEqual(ids(await search(MIGRATION_QUERY)), [fixture(2), fixture(1), fixture(0)]);
      const totals = await get(`/logs?q=${encodeURIComponent(MIGRATION_QUERY)}&include_totals=true`);
      assert.deepEqual({ ...totals.json, logs: totals.json.logs.length }, { start: 0, limit: 50, length: 3, total: 3, logs: 3 });
      const [first] = totals.json.logs;
      assert.equal(first.description, '`oauth/ro` passwordless: This feature is being deprecated');
      // The full depnote shape survives the round trip.
      const web1 = totals.json.logs.find((l: Json) => l.client_id === 'web1');
      assert.deepEqual(web1, JSON.parse(JSON.stringify(FIXTURES[0])));
      assert.equal(web1.details.feature.id, 'enforce_client_authentication_on_passwordless_start');
    });

    it('narrows with NOT, quotes, bare terms and exact fields; matching is case-sensitive', async () => {
      assert.deepEqual(ids(await search(`${MIGRATION_QUERY} AND NOT client_id:legacy`)), [fixture(1), fixture(0)]);
      assert.deepEqual(ids(await search('type:depnote -description:*passwordless*')), [fixture(3)]);
      assert.deepEqual(ids(await search('description:"Success Login"')), [fixture(4)]);
      assert.deepEqual(await search('description:Success'), []);
      assert.deepEqual(await search('type:depnote AND description:*Passwordless*'), []);
      assert.deepEqual(ids(await search('"joe@example.com"')), [fixture(5)]);
      assert.deepEqual(ids(await search('user_name:*@example.com', '&sort=date:1')), [fixture(4), fixture(5)]);
      assert.deepEqual(ids(await search('(type:s OR type:fp) AND client_id:web1', '&sort=date:1')), [fixture(4), fixture(5)]);
      assert.deepEqual(ids(await search('_exists_:user_id')), [fixture(4)]);
      assert.deepEqual(await search('details.feature.id:enforce_client_authentication_on_passwordless_start'), []);
    });

    it('filters date ranges: a date-only inclusive end covers the whole day', async () => {
      assert.deepEqual(ids(await search('date:[2025-01-01 TO 2025-01-31]', '&sort=date:1')), [fixture(0), fixture(1)]);
      assert.deepEqual(ids(await search('date:[2025-01-01 TO 2025-01-31}', '&sort=date:1')), [fixture(0)]);
      assert.deepEqual(ids(await search('date:{2025-01-31 TO 2025-03-01T08:00:00Z]', '&sort=date:1')), [fixture(2), fixture(3), fixture(4)]);
      assert.deepEqual(ids(await search('date:2025-02-01')), [fixture(2)]);
      assert.deepEqual((await search('date:[* TO 2025-03-31] AND NOT type:depnote')).length, 2);
      // The filler is one log a minute from midnight: 02:25 onwards is the last five.
      assert.deepEqual(ids(await search('date:>=2025-06-01T02:25:00Z AND client_id:filler', '&sort=date:1')), ids(FILLER.slice(145)));
      assert.deepEqual(ids(await search('date:>2025-06-01T02:25:00Z AND client_id:filler', '&sort=date:1')), ids(FILLER.slice(146)));
    });

    it('sorts by date, log_id or type in either direction', async () => {
      const asc = ids(await search('client_id:filler', '&sort=date:1'));
      const desc = ids(await search('client_id:filler', '&sort=date:-1'));
      assert.equal(asc.length, 100);
      assert.deepEqual(asc, [...asc].sort());
      assert.deepEqual(desc.slice(0, 3), FILLER.slice(-3).reverse().map((l) => l.log_id));
      assert.deepEqual(ids(await search('client_id:web1', '&sort=type:1')).map((id) => FIXTURES.find((f) => f.log_id === id)!.type), ['depnote', 'fp', 's']);
      assert.deepEqual(ids(await search('client_id:web1', '&sort=log_id:-1')), [fixture(5), fixture(4), fixture(0)]);
      for (const bad of ['date', 'date:0', 'description:1', 'date:-1,type:1']) assert.equal((await get(`/logs?sort=${bad}`)).status, 400, bad);
    });

    it('pages search results with page/per_page/include_totals, within the first 1,000', async () => {
      const all = await search('client_id:filler', '&sort=date:1');
      const page = await get('/logs?q=client_id:filler&sort=date:1&page=2&per_page=7&include_totals=true');
      assert.equal(page.status, 200);
      assert.deepEqual({ ...page.json, logs: ids(page.json.logs) }, { start: 14, limit: 7, length: 7, total: 150, logs: ids(all.slice(14, 21)) });
      const bare = await get('/logs?q=client_id:filler&page=21&per_page=7');
      assert.deepEqual(bare.json.length, 3);
      assert.equal((await get('/logs?page=9&per_page=100')).status, 200);
      const capped = await get('/logs?page=10&per_page=100');
      assert.equal(capped.status, 400);
      assert.equal(capped.json.errorCode, 'invalid_query_string');
      assert.match(capped.json.message, /first 1000/);
      assert.equal((await get('/logs?page=0&per_page=101')).status, 400);
      const projected = await get('/logs?q=client_id:web1&fields=log_id,type&include_fields=true');
      assert.ok(projected.json.length === 3 && projected.json.every((l: Json) => Object.keys(l).sort().join() === 'log_id,type'));
      const dropped = await get('/logs?q=client_id:web1&fields=details,ip&include_fields=false');
      assert.ok(dropped.json.every((l: Json) => l.details === undefined && l.ip === undefined && l.type));
    });

    it('refuses malformed and over-long queries', async () => {
      for (const q of ['type:(s', 'AND', 'date:[2025-01-01 TO', 'description:"x', 'date:2025-13-01']) {
        const r = await get(`/logs?q=${encodeURIComponent(q)}`);
        assert.equal(r.status, 400, q);
        assert.deepEqual([r.json.statusCode, r.json.errorCode], [400, 'invalid_query_string']);
      }
      const long = await get(`/logs?q=${encodeURIComponent(`type:${'x'.repeat(2001)}`)}`);
      assert.equal(long.status, 414);
      assert.equal(long.json.statusCode, 414);
      assert.deepEqual(await search('   '), await search('', ''));
    });

    it('reads every log exactly once with checkpoint paging and the Link header', async () => {
      const expected = ids(await server.services.store.logsAfter(null, 100_000));
      assert.ok(expected.length > 150);
      const seen: string[] = [];
      let url = `/logs?take=100`;
      let pages = 0;
      for (;;) {
        const r = await get(url);
        assert.equal(r.status, 200);
        const link = /^<([^>]+)>; rel="next"$/.exec(r.link ?? '');
        assert.ok(link, `Link header: ${r.link}`);
        const next = new URL(link[1]!);
        assert.equal(`${next.origin}/`, server.issuer);
        assert.equal(next.searchParams.get('take'), '100');
        if (r.json.length === 0) {
          // An empty page points at itself, so a poller keeps asking from the same checkpoint.
          assert.equal(next.searchParams.get('from'), seen.at(-1));
          assert.equal((await get(next.href)).link, r.link);
          break;
        }
        assert.ok(r.json.length <= 100);
        seen.push(...ids(r.json));
        assert.equal(next.searchParams.get('from'), seen.at(-1));
        url = next.href;
        assert.ok(++pages < 10, 'checkpoint paging does not end');
      }
      assert.deepEqual(seen, expected);
      assert.equal(pages, 2);
    });

    it('in checkpoint mode, starts after `from`, defaults take to 50 and ignores search parameters', async () => {
      const r = await get(`/logs?from=${fixture(1)}&q=type:s&sort=date:-1&per_page=3`);
      assert.equal(r.json.length, 50);
      assert.deepEqual(ids(r.json).slice(0, 4), [fixture(2), fixture(3), fixture(4), fixture(5)]);
      assert.equal((await get(`/logs?from=${fixture(1)}&take=101`)).status, 400);
      assert.equal((await get('/logs?from=not-a-log-id')).status, 400);
      assert.equal((await get('/logs?take=0')).status, 400);
    });

    it('gets one log by id, 404 for an unknown id', async () => {
      const one = await get(`/logs/${fixture(0)}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.json, JSON.parse(JSON.stringify(FIXTURES[0])));
      const missing = await get('/logs/90000000000000000000000000000000000000000000000000000000');
      assert.deepEqual(missing, { status: 404, json: { statusCode: 404, error: 'Not Found', message: 'The log event does not exist', errorCode: 'inexistent_log' }, link: null });
    });

    it('shows the logs the server writes itself (seccft for the management token)', async () => {
      const [seccft] = await search('type:seccft AND client_id:test-mgmt-client');
      assert.equal(seccft?.audience, `${server.issuer}api/v2/`);
      assert.equal(typeof seccft?.details?.access_token_jti, 'string');
    });
  });
}
