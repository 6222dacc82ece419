import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeLog } from '../../src/core/logs.ts';
import type { LogEvent } from '../../src/core/model.ts';
import { LogStreamWorker } from '../../src/logs/stream-worker.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

const SECRET = 'stream-signing-secret-0123456789abcdefghij';

/**
 * A real HTTP receiver: verifies `X-Sesame-Signature` (HMAC-SHA256 over `t.body`) and records the
 * log_ids it accepted, in arrival order. `failWith` makes it answer 500s (an outage).
 */
class Receiver {
  server: Server = createServer((req, res) => {
    // A request the sender aborted (its timeout, or the worker stopping) is no delivery: drop it.
    this.#handle(req, res).catch(() => res.destroy());
  });
  received: string[] = [];
  requests: { headers: IncomingMessage['headers']; body: string }[] = [];
  badSignatures = 0;
  failed = 0;
  failWith: number | null = null;
  /** Accept requests without a signature (a stream created with Auth0's body, which has no secret). */
  acceptUnsigned = false;
  port = 0;
  /** Requests being handled at once: above 1 would mean two deliverers of one stream. */
  inFlight = 0;
  maxInFlight = 0;

  async listen(port = 0): Promise<void> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  /** The port stops answering at all (connection refused). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.server = createServer((req, res) => {
    // A request the sender aborted (its timeout, or the worker stopping) is no delivery: drop it.
    this.#handle(req, res).catch(() => res.destroy());
  });
  }
  get url() {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  async #handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => this.inFlight--);
    // Hold each request a little, so overlapping deliveries would be seen.
    await new Promise((r) => setTimeout(r, 5));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests.push({ headers: req.headers, body });
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-sesame-signature'] ?? ''));
    const unsigned = this.acceptUnsigned && req.headers['x-sesame-signature'] === undefined;
    const expected = m ? createHmac('sha256', SECRET).update(`${m[1]}.${body}`).digest() : undefined;
    if (!unsigned && (!m || !expected || !timingSafeEqual(expected, Buffer.from(m[2]!, 'hex')) || Math.abs(Date.now() / 1000 - Number(m[1])) > 300)) {
      this.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    if (this.failWith !== null) {
      this.failed++;
      res.writeHead(this.failWith).end();
      return;
    }
    const type = String(req.headers['content-type']);
    const items: { log_id: string; data: LogEvent }[] = type.startsWith('application/x-ndjson') ? body.split('\n').map((l) => JSON.parse(l)) : [JSON.parse(body)].flat();
    for (const i of items) {
      assert.equal(i.data.log_id, i.log_id);
      this.received.push(i.log_id);
    }
    res.writeHead(200).end();
  }
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Delivery is at least once: a re-sent batch may repeat ids, but never out of order once deduplicated. */
function assertInOrder(received: string[], expected: string[]): void {
  const seen = new Set<string>();
  const firsts = received.filter((id) => (seen.has(id) ? false : (seen.add(id), true)));
  for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i - 1]! < firsts[i]!, `delivered out of log_id order at ${i}`);
  for (const id of expected) assert.ok(seen.has(id), `log ${id} was delivered`);
}

const fakeLogs = (n: number, tag: string) => Array.from({ length: n }, (_, i) => makeLog('s', null, { description: `${tag} ${i}`, user_id: `email|${tag}${i}` }));

for (const { backend, skip } of await backendMatrix()) {
  describe(`log streams (${backend})`, { skip }, () => {
    let server: TestServer;
    const receiver = new Receiver();

    before(async () => {
      await receiver.listen();
      server = await bootServer({ backend });
    });
    after(async () => {
      await server?.close();
      await receiver.close();
    });

    it('CRUD: the secret is write-only; bad input is a 400 in Auth0 shape; scopes are required', async () => {
      const bad = [
        { type: 'http', sink: {} }, // no httpEndpoint
        { type: 'http', sink: { httpEndpoint: 'ftp://x/', signingSecret: SECRET } },
        { type: 'http', sink: { httpEndpoint: 'not a url', signingSecret: SECRET } },
        { type: 'eventbridge', sink: { httpEndpoint: receiver.url, signingSecret: SECRET } },
        { type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: 'short' } },
        { type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: SECRET, httpContentFormat: 'XML' } },
        { type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: SECRET, httpCustomHeaders: [{ header: 'X-Sesame-Signature', value: 'x' }] } },
        { type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: SECRET, httpCustomHeaders: [{ header: 'X-A', value: 'a\r\nInjected: 1' }] } },
        { type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: SECRET }, filters: [] },
      ];
      for (const body of bad) {
        const r = await mgmtCall(server, 'POST', '/log-streams', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.statusCode, 400);
        assert.equal(r.json.error, 'Bad Request');
        assert.equal(typeof r.json.message, 'string');
        assert.equal(typeof r.json.errorCode, 'string');
      }

      const created = await mgmt(server, 'POST', '/log-streams', { name: 'crud', type: 'http', sink: { httpEndpoint: 'http://10.0.0.1:9/x', signingSecret: SECRET } });
      assert.match(created.id, /^lst_/);
      assert.deepEqual(created, {
        id: created.id,
        name: 'crud',
        type: 'http',
        status: 'active',
        sink: { httpEndpoint: 'http://10.0.0.1:9/x', httpContentFormat: 'JSONARRAY', httpContentType: 'application/json' },
      });
      const list = await mgmt(server, 'GET', '/log-streams');
      assert.ok(list.some((l: { id: string }) => l.id === created.id));
      assert.doesNotMatch(JSON.stringify(list), /signing|stream-signing-secret/i);

      const patched = await mgmt(server, 'PATCH', `/log-streams/${created.id}`, { status: 'paused', sink: { httpAuthorization: 'Bearer abc' } });
      assert.equal(patched.status, 'paused');
      assert.equal(patched.sink.httpAuthorization, 'Bearer abc');
      assert.equal(patched.sink.httpEndpoint, 'http://10.0.0.1:9/x', 'the sink merges');
      assert.deepEqual(await mgmt(server, 'GET', `/log-streams/${created.id}`), patched);
      assert.equal((await mgmtCall(server, 'PATCH', `/log-streams/${created.id}`, { status: 'broken' })).status, 400);
      assert.equal((await mgmtCall(server, 'PATCH', `/log-streams/${created.id}`, { type: 'http' })).status, 400);

      const unauth = await fetch(`${server.baseUrl}/api/v2/log-streams`);
      assert.equal(unauth.status, 401);
      const del = await fetch(`${server.baseUrl}/api/v2/log-streams/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
      assert.equal(del.status, 204);
      const gone = await mgmtCall(server, 'GET', `/log-streams/${created.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.json.errorCode, 'inexistent_log_stream');
      assert.equal((await mgmtCall(server, 'PATCH', `/log-streams/${created.id}`, { name: 'x' })).status, 404);
    });

    it('delivers every log once the stream exists, signed, in log_id order, in batches, with Authorization and custom headers', async () => {
      const stream = await mgmt(server, 'POST', '/log-streams', {
        name: 'lines',
        type: 'http',
        sink: {
          httpEndpoint: receiver.url,
          httpAuthorization: 'Bearer receiver-token',
          httpContentFormat: 'JSONLINES',
          httpContentType: 'application/x-ndjson',
          httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme' }],
          signingSecret: SECRET,
        },
      });
      const logs = fakeLogs(250, 'lines');
      for (let i = 0; i < logs.length; i += 50) await server.services.store.appendLogs(logs.slice(i, i + 50));
      const want = logs.map((l) => l.log_id);
      await until(() => want.every((id) => receiver.received.includes(id)), 20_000, 'all 250 logs');
      assertInOrder(receiver.received, want);
      assert.equal(receiver.badSignatures, 0);
      assert.ok(receiver.requests.length >= 3, 'batched: at most 100 logs per request');
      for (const r of receiver.requests) {
        assert.equal(r.headers.authorization, 'Bearer receiver-token');
        assert.equal(r.headers['x-tenant'], 'acme');
        assert.ok(r.body.split('\n').length <= 100);
      }
      // The stream's own creation (a `sapi` log written after it) is delivered too: nothing is skipped.
      const all = (await server.services.store.logsAfter(null, 10_000)).map((l) => l.log_id).filter((id) => id >= receiver.received[0]! && id <= want.at(-1)!);
      assertInOrder(receiver.received, all);
      await fetch(`${server.baseUrl}/api/v2/log-streams/${stream.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
    });

    it('survives a receiver outage (500s, then a closed port): every log delivered in order within 60 s of recovery, with other instances competing', async () => {
      receiver.received = [];
      receiver.requests = [];
      // Two more workers on the same database stand in for other instances: the lease keeps one
      // deliverer per stream, so the order holds.
      const others = [0, 1].map(() => new LogStreamWorker({ store: server.services.store, keyring: server.services.keyring, log: server.services.log, pollMs: 200 }));
      for (const w of others) w.start();
      try {
        receiver.failWith = 500;
        await mgmt(server, 'POST', '/log-streams', { name: 'array', type: 'http', sink: { httpEndpoint: receiver.url, signingSecret: SECRET } });
        const first = fakeLogs(120, 'outage-a');
        await server.services.store.appendLogs(first);
        await until(() => receiver.failed >= 2, 20_000, 'failed deliveries');
        assert.equal(receiver.received.length, 0);

        await receiver.close(); // connection refused from now on
        const second = fakeLogs(130, 'outage-b');
        await server.services.store.appendLogs(second);
        await new Promise((r) => setTimeout(r, 3000));

        receiver.failWith = null;
        await receiver.listen(receiver.port);
        const recoveredAt = Date.now();
        const want = [...first, ...second].map((l) => l.log_id);
        await until(() => want.every((id) => receiver.received.includes(id)), 60_000, 'catch-up after the outage');
        const took = Date.now() - recoveredAt;
        assert.ok(took <= 60_000, `caught up in ${took} ms`);
        assertInOrder(receiver.received, want);
        assert.equal(receiver.badSignatures, 0);
        assert.equal(receiver.maxInFlight, 1, 'one deliverer per stream at a time');
        for (const r of receiver.requests) assert.equal(r.headers['content-type'], 'application/json');
      } finally {
        for (const w of others) await w.stop();
      }
    });

    it('JSONOBJECT sends one log per request; a paused stream sends nothing until resumed', async () => {
      // Receivers of their own: batches of the earlier tests' streams still in flight land elsewhere.
      const paused = new Receiver();
      const control = new Receiver();
      await Promise.all([paused.listen(), control.listen()]);
      try {
        const stream = await mgmt(server, 'POST', '/log-streams', { type: 'http', sink: { httpEndpoint: paused.url, httpContentFormat: 'JSONOBJECT', signingSecret: SECRET } });
        await mgmt(server, 'PATCH', `/log-streams/${stream.id}`, { status: 'paused' });
        // An active stream created after the pause: once it has the logs, the worker has passed the
        // paused stream over with them at least once, so "nothing sent" is a count, not a sleep.
        const witness = await mgmt(server, 'POST', '/log-streams', { type: 'http', sink: { httpEndpoint: control.url, httpContentFormat: 'JSONOBJECT', signingSecret: SECRET } });
        const logs = fakeLogs(5, 'object');
        await server.services.store.appendLogs(logs);
        const want = logs.map((l) => l.log_id);
        await until(() => want.every((id) => control.received.includes(id)), 20_000, 'the 5 logs on the active stream');
        assert.deepEqual(want.filter((id) => paused.received.includes(id)), [], 'paused: none of the logs sent');
        const del = await fetch(`${server.baseUrl}/api/v2/log-streams/${witness.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
        assert.equal(del.status, 204);

        await mgmt(server, 'PATCH', `/log-streams/${stream.id}`, { status: 'active' });
        await until(() => want.every((id) => paused.received.includes(id)), 20_000, 'the 5 logs after resuming');
        assertInOrder(paused.received, want);
        for (const r of [...paused.requests, ...control.requests]) {
          const item = JSON.parse(r.body) as { log_id?: unknown };
          assert.ok(!Array.isArray(item) && typeof item.log_id === 'string', 'one {log_id, data} object per request');
        }
      } finally {
        await Promise.all([paused.close(), control.close()]);
      }
    });

    it("Auth0's exact body (no signingSecret) creates a stream; its deliveries are unsigned, authorised by httpAuthorization", async () => {
      for (const st of await mgmt(server, 'GET', '/log-streams')) {
        await fetch(`${server.baseUrl}/api/v2/log-streams/${st.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
      }
      await new Promise((r) => setTimeout(r, 1500)); // let any batch in flight land
      receiver.received = [];
      receiver.requests = [];
      receiver.acceptUnsigned = true;
      try {
        // The body of Auth0's "Create a log stream" example for type http, unchanged.
        const body = {
          name: 'auth0-shaped',
          type: 'http',
          sink: { httpEndpoint: receiver.url, httpAuthorization: 'Bearer auth0-style', httpContentFormat: 'JSONARRAY', httpContentType: 'application/json' },
        };
        const created = await mgmtCall(server, 'POST', '/log-streams', body);
        assert.equal(created.status, 200, JSON.stringify(created.json));
        assert.deepEqual(created.json, { id: created.json.id, name: 'auth0-shaped', type: 'http', status: 'active', sink: body.sink });
        const logs = fakeLogs(3, 'auth0-shaped');
        await server.services.store.appendLogs(logs);
        await until(() => logs.every((l) => receiver.received.includes(l.log_id)), 20_000, 'the 3 logs');
        // Only this stream's requests: a late batch of an earlier test's stream may still land.
        const ours = receiver.requests.filter((r) => r.body.includes('auth0-shaped '));
        assert.ok(ours.length > 0);
        for (const r of ours) {
          assert.equal(r.headers['x-sesame-signature'], undefined, 'no secret, no signature');
          assert.equal(r.headers.authorization, 'Bearer auth0-style');
        }
        // A secret added later signs the next deliveries.
        await mgmt(server, 'PATCH', `/log-streams/${created.json.id}`, { sink: { signingSecret: SECRET } });
        receiver.acceptUnsigned = false;
        receiver.requests = [];
        const more = fakeLogs(2, 'auth0-shaped-signed');
        await server.services.store.appendLogs(more);
        await until(() => more.every((l) => receiver.received.includes(l.log_id)), 20_000, 'the signed logs');
        const signed = receiver.requests.filter((r) => r.body.includes('auth0-shaped-signed '));
        assert.ok(signed.length > 0 && signed.every((r) => typeof r.headers['x-sesame-signature'] === 'string'));
        await fetch(`${server.baseUrl}/api/v2/log-streams/${created.json.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await server.mgmtToken()}` } });
      } finally {
        receiver.acceptUnsigned = false;
      }
    });
  });
}
