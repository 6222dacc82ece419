import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { main } from '../../src/cli.ts';
import { PASSWORDLESS_OTP_GRANT as GRANT } from '../../src/core/model.ts';
import { sesameTables } from '../../src/store/sql/copy.ts';
import { openDatabase } from '../../src/store/sql/dialect.ts';
import { type Backend, backendMatrix, freshDatabase } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt } from '../helpers/management.ts';
import { extractCode, startSmtpSink } from '../helpers/smtp-sink.ts';

/**
 * Tables the used tenant below leaves empty, and why. Any other empty table fails the test: a table
 * added by a future migration must get a row here (or a reason) so that its copy is proven.
 */
const LEFT_EMPTY: Record<string, string> = {
  assertion_jtis: 'private_key_jwt client assertions: none used',
  rate_limits: 'the per-IP start limit is off in tests',
  delivery_workers: 'mail workers heartbeat here while they run and remove their row when they stop; the source is stopped before the copy',
};

const tmp = mkdtempSync(join(tmpdir(), 'sesame-copy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A database that outlives the server using it (bootServer drops its own at close). */
async function persistentDb(backend: Backend, name: string) {
  return backend === 'sqlite' ? { url: `sqlite:${join(tmp, `${name}.db`)}`, drop: async () => {} } : freshDatabase('postgres');
}

async function sesame(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await main(args, { env: {}, stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Every row of every table, each table's rows in a stable order: what "an exact copy" means. */
async function dump(url: string): Promise<Record<string, string[]>> {
  const opened = await openDatabase(url);
  const { dialect } = opened;
  const db = opened.db as unknown as Kysely<any>; // any table by name
  try {
    const out: Record<string, string[]> = {};
    for (const t of await sesameTables(db, dialect)) {
      out[t.name] = (await db.selectFrom(t.name).selectAll().execute()).map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)))).sort();
    }
    return out;
  } finally {
    await db.destroy();
  }
}

const pg = (await backendMatrix()).find((b) => b.backend === 'postgres')!;

for (const [from, to] of [['sqlite', 'postgres'], ['postgres', 'sqlite']] as const) {
  describe(`sesame db copy: ${from} → ${to}`, { skip: pg.skip }, () => {
    it('copies a used tenant exactly; a code issued on the source is exchanged on the target', async () => {
      const sink = await startSmtpSink();
      const source = await persistentDb(from, 'source');
      const target = await persistentDb(to, 'target');
      const env = (url: string, pollMs = '50') => ({ SESAME_DATABASE_URL: url, SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: pollMs, SESAME_START_LIMIT_PER_HOUR: '0' });
      let a: TestServer | undefined;
      let b: TestServer | undefined;
      try {
        // The source's mail worker runs only when a start wakes it, so a message queued quietly stays pending.
        a = await bootServer({ env: env(source.url, '3600000') });
        const server = a;
        const { client, secret } = await createClient(server, { app_type: 'regular_web', grant_types: [GRANT, 'refresh_token'] });
        const creds = { client_id: client.client_id, client_secret: secret };
        const startCode = async (email: string) => {
          const res = await server.post('/passwordless/start', { ...creds, connection: 'email', email, send: 'code' });
          assert.equal(res.status, 200, await res.clone().text());
          return extractCode(await sink.waitFor((m) => m.to === email, 30_000)); // the mail thread may take seconds to start on a busy machine
        };
        const exchange = (s: TestServer, email: string, otp: string) =>
          s.post('/oauth/token', { grant_type: GRANT, ...creds, username: email, otp, realm: 'email', scope: 'openid offline_access' });

        // Use the tenant: a sign-in with a refresh token, a wrong guess, reference data of every kind.
        const alice = uniqueEmail('alice');
        const signedIn = await exchange(server, alice, await startCode(alice));
        assert.equal(signedIn.status, 200);
        const { refresh_token } = (await signedIn.json()) as { refresh_token: string };
        assert.ok(refresh_token);
        const bob = uniqueEmail('bob');
        const bobCode = await startCode(bob);
        assert.equal((await exchange(server, bob, bobCode === '000000' ? '111111' : '000000')).status, 403);
        const api = await mgmt(server, 'POST', '/resource-servers', { identifier: 'https://orders.example', name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read orders' }] });
        const role = await mgmt(server, 'POST', '/roles', { name: 'Reader' });
        const read = { resource_server_identifier: api.identifier, permission_name: 'read:orders' };
        const assign = async (path: string, body: unknown) => {
          const r = await fetch(`${server.baseUrl}/api/v2${path}`, { method: 'POST', headers: { authorization: `Bearer ${await server.mgmtToken()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
          assert.ok(r.ok, `${path}: ${r.status} ${await r.text()}`);
        };
        await assign(`/roles/${role.id}/permissions`, { permissions: [read] });
        const [user] = await mgmt(server, 'GET', `/users-by-email?email=${encodeURIComponent(alice)}`);
        await assign(`/roles/${role.id}/users`, { users: [user.user_id] });
        await assign(`/users/${encodeURIComponent(user.user_id)}/permissions`, { permissions: [read] });
        await mgmt(server, 'POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:orders'] });
        await mgmt(server, 'POST', '/log-streams', { name: 'siem', type: 'http', sink: { httpEndpoint: 'http://127.0.0.1:9/never', signingSecret: 'x'.repeat(32) } });
        await mgmt(server, 'POST', '/sesame/admins', { email: 'ops@example.com' });
        await mgmt(server, 'PATCH', '/tenants/settings', { friendly_name: 'Copied Tenant' });
        // Issued on the source, exchanged only on the target.
        const carol = uniqueEmail('carol');
        const carolCode = await startCode(carol);
        const jwks = await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json();
        // A message still in the outbox when the source stops: the target's worker delivers it.
        const erin = uniqueEmail('erin');
        await server.services.store.enqueue({ channel: 'email', recipient: erin, payload: JSON.stringify({ from: 'Sesame <no-reply@localhost>', subject: 'queued on the source', text: 'hello', html: '<p>hello</p>' }), meta: {} });
        await server.close();
        a = undefined;

        const copied = await sesame(['db', 'copy', '--from', source.url, '--to', target.url]);
        assert.equal(copied.code, 0, copied.stderr);

        // Every table the migrations create is listed with equal counts, and holds exactly the same rows.
        const rows = await dump(source.url);
        const tables = Object.keys(rows);
        assert.ok(tables.includes('otp_codes') && tables.includes('signing_keys'));
        for (const t of tables) assert.match(copied.stdout, new RegExp(`^  ${t} +(\\d+) +\\1$`, 'm'), `${t} in the report`);
        const empty = tables.filter((t) => rows[t]!.length === 0);
        assert.deepEqual(empty, Object.keys(LEFT_EMPTY).filter((t) => tables.includes(t)).sort(), 'every table but the listed ones holds rows, so its copy is proven');
        assert.deepEqual(await dump(target.url), rows);

        // Again: refused without --force (nothing written), an exact re-sync with it.
        const again = await sesame(['db', 'copy', '--from', source.url, '--to', target.url]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /not empty.*--force/s);
        const forced = await sesame(['db', 'copy', '--from', source.url, '--to', target.url, '--force']);
        assert.equal(forced.code, 0, forced.stderr);
        assert.deepEqual(await dump(target.url), rows);

        assert.equal(rows.outbox!.filter((r) => r.includes('"pending"')).length, 1, 'the pending message is copied');
        b = await bootServer({ env: env(target.url) });
        assert.equal((await sink.waitFor((m) => m.to === erin, 30_000)).subject, 'queued on the source');
        // The code, the client secret (a keyed hash), the refresh token and the signing keys (sealed) all work there.
        const res = await exchange(b, carol, carolCode);
        assert.equal(res.status, 200, await res.clone().text());
        const refreshed = await b.post('/oauth/token', { grant_type: 'refresh_token', ...creds, refresh_token });
        assert.equal(refreshed.status, 200, await refreshed.clone().text());
        assert.deepEqual(await (await fetch(`${b.baseUrl}/.well-known/jwks.json`)).json(), jwks);
        // New rows on the target do not collide with copied ids (the outbox's sequence moved on).
        const dave = uniqueEmail('dave');
        assert.equal((await b.post('/passwordless/start', { ...creds, connection: 'email', email: dave, send: 'code' })).status, 200);
        await sink.waitFor((m) => m.to === dave, 30_000);
      } finally {
        await a?.close();
        await b?.close();
        await sink.close();
        await source.drop();
        await target.drop();
      }
    });
  });
}

describe('sesame db copy: usage', () => {
  it('prints its help with an example, and refuses bad arguments before touching a database', async () => {
    const help = await sesame(['db', 'copy', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /sesame db copy --from sqlite:\.\/data\/sesame\.db --to postgres:\/\//);
    assert.match(help.stdout, /same\s+SESAME_SECRET/);
    assert.equal((await sesame(['db', 'copy', '--from', 'sqlite:x.db'])).code, 2);
    assert.equal((await sesame(['db', 'copy', '--from', 'mysql://x', '--to', 'sqlite:y.db'])).code, 2);
    assert.equal((await sesame(['db', 'copy', '--from', 'sqlite:same.db', '--to', 'sqlite:same.db'])).code, 2);
    const missing = await sesame(['db', 'copy', '--from', `sqlite:${join(tmp, 'nothing-here.db')}`, '--to', `sqlite:${join(tmp, 'out.db')}`]);
    assert.deepEqual([missing.code, missing.stderr.trim()], [2, `No SQLite database at ${join(tmp, 'nothing-here.db')}.`]);
    assert.equal((await sesame(['db', 'move'])).code, 2);
  });
});

