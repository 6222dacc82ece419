import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManagementApiError, ManagementClient } from 'auth0';
import { makeLog } from '../../src/core/logs.ts';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

const FLAG = 'enforce_client_authentication_on_passwordless_start';
const DEPRECATION =
  'Enforce client authentication for passwordless connections: This feature is being deprecated. Please see details.feature of this log for more information.';

/**
 * The official node-auth0 v4 ManagementClient, unchanged, against Sesame over HTTPS (spec §5, N4).
 * It gets its own token with client_credentials for `https://{domain}/api/v2/` (the SDK default
 * audience), builds `https://{domain}/api/v2` URLs and parses Auth0's error envelope; only the
 * transport is ours, to trust the test certificate.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`node-auth0 ManagementClient [${backend}]`, { skip }, () => {
    let server: TestServer;
    let mgmt: ManagementClient;
    let seen: string[];
    /** Plain requests to the server over its TLS (the certificate trusted). */
    let tls: typeof globalThis.fetch;
    before(async () => {
      const cert = await makeTestCert();
      server = await bootServer({ backend, env: { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath } });
      const domain = new URL(server.issuer).host;
      assert.equal(server.issuer, `https://${domain}/`);
      const base = trustedFetch(cert.ca);
      tls = base;
      seen = [];
      const fetch: typeof globalThis.fetch = (input, init) => {
        seen.push(`${init?.method ?? 'GET'} ${String(input)}`);
        return base(input, init);
      };
      mgmt = new ManagementClient({ domain, clientId: MGMT.client_id, clientSecret: MGMT.client_secret, fetch, retry: { enabled: false } });
    });
    after(async () => server?.close());

    /** The SDK's error for a failing call: status, Auth0 message and errorCode preserved. */
    async function sdkError(call: Promise<unknown>): Promise<ManagementApiError> {
      try {
        await call;
      } catch (err) {
        assert.ok(err instanceof ManagementApiError, `expected a ManagementApiError, got ${String(err)}`);
        return err;
      }
      assert.fail('the call succeeded');
    }

    it('authenticates with client_credentials for https://{domain}/api/v2/ and manages clients', async () => {
      const { data: created, status } = await mgmt.clients.create({ name: 'SDK App', app_type: 'regular_web', callbacks: ['https://sdk.example/cb'] });
      assert.equal(status, 201);
      assert.match(created.client_secret ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok(seen.some((r) => r.startsWith(`POST ${server.issuer}oauth/token`)), 'the SDK fetched its own token');
      assert.ok(seen.some((r) => r === `POST ${server.issuer}api/v2/clients`));

      const { data: got } = await mgmt.clients.get({ client_id: created.client_id });
      assert.equal(got.name, 'SDK App');
      assert.equal(got.client_secret, undefined);
      const { data: all } = await mgmt.clients.getAll({ per_page: 100 });
      assert.ok(all.some((c) => c.client_id === created.client_id) && all.every((c) => c.client_secret === undefined));
      const { data: paged } = await mgmt.clients.getAll({ include_totals: true, per_page: 1 } as never);
      assert.deepEqual(Object.keys(paged).sort(), ['clients', 'length', 'limit', 'start', 'total']);

      const { data: updated } = await mgmt.clients.update({ client_id: created.client_id }, { description: 'from the SDK', is_first_party: false });
      assert.deepEqual([updated.description, updated.is_first_party], ['from the SDK', false]);
      const { data: rotated } = await mgmt.clients.rotateClientSecret({ client_id: created.client_id });
      assert.ok(rotated.client_secret && rotated.client_secret !== created.client_secret);

      await mgmt.clients.delete({ client_id: created.client_id });
      const err = await sdkError(mgmt.clients.get({ client_id: created.client_id }));
      assert.deepEqual([err.statusCode, err.message, err.errorCode, err.error], [404, 'The client does not exist', 'inexistent_client', 'Not Found']);
      const invalid = await sdkError(mgmt.clients.create({ name: 'x', app_type: 'robot' as never }));
      assert.deepEqual([invalid.statusCode, invalid.errorCode], [400, 'invalid_body']);
      assert.match(invalid.message, /^Payload validation error: 'No enum match for: "robot"' on property app_type\.$/);
    });

    it('manages connections and their enabled clients', async () => {
      const { data: app } = await mgmt.clients.create({ name: 'Conn App', app_type: 'spa' });
      const { data: conn } = await mgmt.connections.create({ name: 'sdk-email', strategy: 'email', options: { totp: { length: 6, time_step: 120 } } as never });
      assert.equal(conn.strategy, 'email');
      await mgmt.connections.updateEnabledClients({ id: conn.id! }, [{ client_id: app.client_id!, status: true }]);
      const { data: enabled } = await mgmt.connections.getEnabledClients({ id: conn.id!, take: 10 });
      assert.deepEqual(enabled.clients, [{ client_id: app.client_id }]);
      const { data: fetched } = await mgmt.connections.get({ id: conn.id! });
      assert.deepEqual(fetched.enabled_clients, [app.client_id]);
      const { data: list } = await mgmt.connections.getAll({ strategy: ['email'] });
      assert.deepEqual(list.map((c) => c.name).sort(), ['email', 'sdk-email']);
      const { data: patched } = await mgmt.connections.update({ id: conn.id! }, { options: { disable_signup: true } as never });
      assert.deepEqual(patched.options, { disable_signup: true });
      const dup = await sdkError(mgmt.connections.create({ name: 'sdk-email', strategy: 'email' }));
      assert.deepEqual([dup.statusCode, dup.message], [409, 'A connection with the same name already exists']);
      await mgmt.connections.delete({ id: conn.id! });
      assert.equal((await sdkError(mgmt.connections.get({ id: conn.id! }))).statusCode, 404);
    });

    it('reads and sets the migration flag in tenant settings (spec §2.2)', async () => {
      const { data: before } = await mgmt.tenants.getSettings();
      assert.equal(before.flags?.[FLAG], false);
      const { data: after } = await mgmt.tenants.updateSettings({ flags: { [FLAG]: true } as never });
      assert.equal(after.flags?.[FLAG], true);
      assert.equal((await mgmt.tenants.getSettings()).data.flags?.[FLAG], true);
      await mgmt.tenants.updateSettings({ flags: { [FLAG]: false } as never });
    });

    it('searches logs with q and include_totals, and pages by checkpoint', async () => {
      await server.services.store.appendLogs([
        makeLog('depnote', null, { description: DEPRECATION, client_id: 'web-app', client_name: 'Web' }),
        makeLog('depnote', null, { description: 'Custom claims: This feature is being deprecated.', client_id: 'other' }),
      ]);
      const { data } = await mgmt.logs.getAll({ q: 'type:depnote AND description:*passwordless*', include_totals: true } as never);
      const page = data as unknown as { total: number; logs: { client_id: string }[] };
      assert.equal(page.total, 1);
      assert.equal(page.logs[0]?.client_id, 'web-app');
      // Checkpoint mode answers a bare array (the SDK types it as array-or-totals).
      type Logs = { log_id: string }[];
      const firstPage = await mgmt.logs.getAll({ take: 2 });
      const first = firstPage.data as unknown as Logs;
      assert.equal(first.length, 2);
      const next = /<([^>]+)>; rel="next"/.exec(firstPage.headers.get('link') ?? '')?.[1];
      assert.ok(next);
      const from = new URL(next).searchParams.get('from')!;
      assert.equal(from, first[1]!.log_id);
      const second = (await mgmt.logs.getAll({ from, take: 2 })).data as unknown as Logs;
      assert.ok(second.length > 0 && second.every((l) => l.log_id > from));
      const { data: one } = await mgmt.logs.get({ id: first[0]!.log_id });
      assert.equal(one.log_id, first[0]!.log_id);
      const bad = await sdkError(mgmt.logs.getAll({ q: 'type:(' }));
      assert.deepEqual([bad.statusCode, bad.errorCode], [400, 'invalid_query_string']);
    });

    it('creates and finds passwordless users', async () => {
      const email = uniqueEmail('sdk');
      const { data: user } = await mgmt.users.create({ connection: 'email', email, email_verified: true });
      assert.match(user.user_id ?? '', /^email\|[0-9a-f]{24}$/);
      const { data: byEmail } = await mgmt.usersByEmail.getByEmail({ email });
      assert.deepEqual(byEmail.map((u) => u.user_id), [user.user_id]);
      const { data: found } = await mgmt.users.getAll({ q: `email:"${email}"`, search_engine: 'v3' });
      assert.deepEqual(found.map((u) => u.user_id), [user.user_id]);
      const { data: got } = await mgmt.users.get({ id: user.user_id! });
      assert.equal(got.email, email);
      const dup = await sdkError(mgmt.users.create({ connection: 'email', email }));
      assert.deepEqual([dup.statusCode, dup.message], [409, 'The user already exists.']);
      await mgmt.users.delete({ id: user.user_id! });
      assert.equal((await sdkError(mgmt.users.get({ id: user.user_id! }))).statusCode, 404);
    });

    it('lists and lifts brute-force blocks with userBlocks (spec §7)', async () => {
      const email = uniqueEmail('sdk-bf');
      const { data: user } = await mgmt.users.create({ connection: 'email', email, email_verified: true });
      // Ten wrong codes from this IP at the OTP grant block the pair; the eleventh guess is refused.
      const guess = () => tls(`${server.issuer}oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: PASSWORDLESS_OTP_GRANT, ...server.defaultApp, username: email, otp: '000000', realm: 'email' }),
      });
      for (let i = 0; i < 10; i++) assert.equal((await guess()).status, 403);
      assert.equal((await guess()).status, 429);

      const blocked = { blocked_for: [{ identifier: email, ip: '127.0.0.1', connection: 'email' }] };
      const { data: byIdentifier } = await mgmt.userBlocks.getAll({ identifier: email });
      assert.deepEqual(byIdentifier, blocked);
      const { data: byId } = await mgmt.userBlocks.get({ id: user.user_id! });
      assert.deepEqual(byId, blocked);
      assert.equal((await mgmt.userBlocks.deleteAll({ identifier: email })).status, 204);
      assert.deepEqual((await mgmt.userBlocks.getAll({ identifier: email })).data, { blocked_for: [] });
      assert.equal((await guess()).status, 403);

      for (let i = 0; i < 9; i++) assert.equal((await guess()).status, 403);
      assert.deepEqual((await mgmt.userBlocks.get({ id: user.user_id! })).data, blocked);
      assert.equal((await mgmt.userBlocks.delete({ id: user.user_id! })).status, 204);
      assert.deepEqual((await mgmt.userBlocks.get({ id: user.user_id! })).data, { blocked_for: [] });
      assert.equal((await sdkError(mgmt.userBlocks.get({ id: 'email|nobody' }))).statusCode, 404);
    });

    it('configures the email provider; the SDK never receives smtp_pass', async () => {
      assert.equal((await sdkError(mgmt.emails.get())).statusCode, 404);
      await mgmt.emails.configure({ name: 'smtp', credentials: { smtp_host: 'smtp.example.com', smtp_port: 587, smtp_user: 'u', smtp_pass: 'sdk-pass-123' } as never });
      const { data } = await mgmt.emails.get();
      assert.deepEqual(data.credentials, { smtp_host: 'smtp.example.com', smtp_port: 587, smtp_user: 'u' });
      const { data: updated } = await mgmt.emails.update({ default_from_address: 'no-reply@example.com' });
      assert.equal(updated.default_from_address, 'no-reply@example.com');
      // Another provider needs its own credentials; one Sesame has no sender for is named.
      const keyless = await sdkError(mgmt.emails.update({ name: 'sendgrid' }));
      assert.equal(keyless.statusCode, 400);
      assert.match(keyless.message, /credentials\.api_key/);
      const unsupported = await sdkError(mgmt.emails.update({ name: 'azure_cs' }));
      assert.equal(unsupported.statusCode, 400);
      assert.match(unsupported.message, /azure_cs/);
    });
  });
}
