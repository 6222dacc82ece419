import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { Gen } from '../helpers/fuzz-inputs.ts';

/**
 * Issue 11: seeded fuzzing of every route. The routes come from the server's own OpenAPI document,
 * which is built from Fastify's route table (openapi-collector.ts): a new route is fuzzed without a
 * change here. Each request is malformed somewhere (NUL in every position, huge strings, wrong
 * types, deep or broken JSON, wrong content types, odd Unicode, unknown parameters); none may get a
 * 5xx, a driver's error text or a stack trace. SESAME_FUZZ_REQUESTS sets the count per backend,
 * SESAME_FUZZ_SEED replays a run (the seed is printed).
 */
const COUNT = Number(process.env.SESAME_FUZZ_REQUESTS ?? 2000);
const SEED = Number(process.env.SESAME_FUZZ_SEED ?? randomInt(2 ** 31));
const CONCURRENCY = 4;
const LEAK = /invalid byte sequence|syntax error at|SQLITE_|violates|duplicate key|DatabaseError|relation "|column "|\n\s+at [\w.<]+ \(|node_modules/i;

/** Parameter names of the Authentication API and the pages (their routes declare no schemas). */
const AUTH_FIELDS = [
  'client_id', 'client_secret', 'connection', 'email', 'phone_number', 'send', 'authParams', 'grant_type', 'realm', 'username',
  'otp', 'scope', 'audience', 'token', 'code', 'redirect_uri', 'response_type', 'response_mode', 'state', 'nonce',
  'verification_code', 'refresh_token', 'code_verifier', 'code_challenge', 'credential_type', 'login_ticket', 'returnTo',
  'ui_locales', '_csrf', 'action', 'relay_code', 'access_token', 'prompt', 'client_assertion', 'client_assertion_type',
  'id_token_hint', 'post_logout_redirect_uri', 'federated', 'login_hint', 'protocol', 'client', 'country',
];
const GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', 'http://auth0.com/oauth/grant-type/passwordless/otp'];

interface Op {
  method: string;
  path: string;
  management: boolean;
  query: string[];
  body: string[];
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`fuzz [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let ops: Op[];
    let token: string;
    before(async () => {
      srv = await bootServer({ backend });
      token = await srv.mgmtToken();
      ops = operations((await (await fetch(`${srv.baseUrl}/api/v2/openapi.json`)).json()) as Doc);
    });
    after(() => srv?.close());

    it(`${COUNT} malformed requests over every route: no 5xx, no leaked internals`, async (t) => {
      const seed = SEED + (backend === 'postgres' ? 1 : 0);
      t.diagnostic(`seed ${seed} (replay: SESAME_FUZZ_SEED=${SEED} SESAME_FUZZ_REQUESTS=${COUNT})`);
      assert.ok(ops.length >= 50, `only ${ops.length} operations in the OpenAPI document`);
      for (const must of ['POST /oauth/token', 'GET /authorize', 'POST /login/email', 'GET /api/v2/users', 'GET /client/{file}']) {
        assert.ok(ops.some((o) => `${o.method} ${o.path}` === must), `${must} is fuzzed`);
      }
      const g = new Gen(seed);
      const good: Record<string, string> = {
        client_id: srv.defaultApp.client_id, client_secret: srv.defaultApp.client_secret, connection: 'email', email: 'fuzz@example.com',
        send: 'code', realm: 'email', username: 'fuzz@example.com', scope: 'openid', response_type: 'code', redirect_uri: 'https://app.example.com/cb',
        file: `${srv.defaultApp.client_id}.js`, id: srv.defaultApp.client_id, returnTo: 'https://app.example.com/', token: 'x'.repeat(40),
      };
      const requests = Array.from({ length: COUNT }, (_, i) => request(g, ops[i % ops.length]!, good, token, srv.baseUrl));
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      let next = 0;
      const lane = async () => {
        while (next < requests.length) {
          const r = requests[next++]!;
          let status: number;
          let text: string;
          try {
            const res = await fetch(r.url, { ...r.init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
            status = res.status;
            text = await res.text();
          } catch (err) {
            failures.push(`${r.what}: no answer (${(err as Error).cause ?? (err as Error).message})`);
            continue;
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500) failures.push(`${r.what} → ${status} ${text.slice(0, 300)}`);
          else if (LEAK.test(text)) failures.push(`${r.what} → ${status} leaks: ${text.slice(0, 300)}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
      t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures (seed ${SEED})`);
      assert.equal((await fetch(`${srv.baseUrl}/health`)).status, 200, 'the server is healthy afterwards');
    });
  });
}

type Doc = { paths: Record<string, Record<string, { tags?: string[]; parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>> };

function operations(doc: Doc): Op[] {
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const management = path.startsWith('/api/v2');
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const body = Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {});
      ops.push({ method: method.toUpperCase(), path, management, query: management ? query : [...query, ...AUTH_FIELDS], body: management ? body : AUTH_FIELDS });
    }
  }
  return ops;
}

interface Req {
  what: string;
  url: string;
  init: RequestInit;
}

/** One malformed request for `op`: most of it plausible, one or more parts broken. */
function request(g: Gen, op: Op, good: Record<string, string>, token: string, base: string): Req {
  // A plausible value reaches the code behind the parsers (and the database); NUL spliced into one
  // is the input PostgreSQL cannot store, so it comes often, in every position.
  const plausible = (name: string) => (Object.hasOwn(good, name) ? good[name]! : undefined) ?? (name === 'grant_type' ? g.pick(GRANTS) : name);
  const value = (name: string): string => {
    const roll = g.int(20);
    if (roll < 9) return plausible(name);
    if (roll < 14) return withNul(g, plausible(name));
    return g.nastyString(name);
  };
  // The path: each parameter plausible, encoded garbage, or broken percent-encoding.
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    g.pick([() => enc(value(name)), () => '%E0%A4%A', () => '%00', () => enc(g.nastyString('id')), () => srvIdLike(g)])(),
  );
  const q = new URLSearchParams();
  const names = [...op.query, 'unknown_param', '__proto__', 'a[b]'];
  for (let i = g.int(5); i > 0; i--) q.append(g.pick(names), value(g.pick(names)));
  if (g.chance(0.1)) q.append(g.nastyString('k'), 'v');
  const url = `${base}${path}${q.size ? `?${q}` : ''}`;

  const headers: Record<string, string> = {};
  if (op.management && g.chance(0.85)) headers.authorization = `Bearer ${token}`;
  else if (g.chance(0.2)) headers.authorization = g.pick(['Bearer', 'Basic !!!', `Basic ${Buffer.from('a\0:b').toString('base64')}`, `Bearer ${'x'.repeat(5000)}`]);
  if (g.chance(0.3)) headers.cookie = `sesame_session=${enc(g.nastyString('s'))}; sesame_browser=${enc(g.nastyString('b'))}`;
  if (g.chance(0.2)) headers['accept-language'] = g.pick(['fr', 'zz-ZZ;q=2', '*', 'en;q=abc']);
  if (g.chance(0.1)) headers['auth0-forwarded-for'] = g.pick(['::1', '999.1.1.1', 'x', '1.2.3.4, 5.6.7.8']);

  let body: string | undefined;
  if (op.method !== 'GET' && op.method !== 'HEAD' && op.method !== 'OPTIONS') {
    const fields: Record<string, unknown> = {};
    for (let i = 1 + g.int(5); i > 0; i--) {
      const name = g.chance(0.9) && op.body.length ? g.pick(op.body) : g.nastyString('field');
      fields[name] = g.chance(0.4) ? g.nastyValue(name) : value(name);
    }
    switch (g.int(10)) {
      case 0:
        headers['content-type'] = 'application/json';
        body = g.pick(['{"a":', '{"a":1}}', '\u0000', '', 'null', '[]', '"str"', '{"__proto__":{"x":1}}', `{"a":"${'\\u0000'}"}`, '{'.repeat(5000)]);
        break;
      case 1:
        headers['content-type'] = g.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=latin1', '']);
        body = JSON.stringify(fields);
        break;
      case 2:
        headers['content-type'] = g.pick(['application/json', 'application/x-www-form-urlencoded']);
        body = 'a'.repeat(70_000);
        break;
      case 3:
      case 4:
      case 5: {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(fields)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
        body = form.toString();
        break;
      }
      default:
        headers['content-type'] = 'application/json';
        body = JSON.stringify(fields);
    }
  }
  const what = `${op.method} ${url.slice(base.length, base.length + 120)}${body !== undefined ? ` ${headers['content-type']} ${body.slice(0, 80)}` : ''}`;
  return { what, url, init: { method: op.method, headers, ...(body !== undefined ? { body } : {}) } };
}

/** `v` with U+0000 at its start, its end or inside. */
function withNul(g: Gen, v: string): string {
  const at = g.pick([0, v.length, Math.floor(v.length / 2)]);
  return `${v.slice(0, at)}\0${v.slice(at)}`;
}

/** Percent-encoding that survives lone surrogates (sent as U+FFFD; the raw form goes in bodies). */
const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

function srvIdLike(g: Gen): string {
  return g.pick(['con_', 'cgr_', 'email|', 'sms|+1555', 'lst_0000', 'rs_', '90020201223000000000000000000000000000000000000000000000']) + g.int(1e6);
}
