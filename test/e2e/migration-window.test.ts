import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeLog } from '../../src/core/logs.ts';
import type { LogEvent } from '../../src/core/model.ts';
import { ManagementApi } from '../../src/migration/api.ts';
import { FEATURE_ID, SKEW_MS } from '../../src/migration/notices.ts';
import { buildReport } from '../../src/migration/report.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A passwordless depnote as the server writes it (spec §2.3), for logs older than any real call. */
const depnote = (clientId: string, at: number): LogEvent =>
  makeLog('depnote', null, { client_id: clientId, client_name: 'Old', ip: '10.0.0.1', details: { feature: { id: FEATURE_ID } } }, at);
const filler = (n: number, at: number): LogEvent[] => Array.from({ length: n }, (_, i) => makeLog('seccft', null, { client_id: 'filler', ip: '10.0.0.2' }, at + i));

/**
 * Issue 4 §1 against a tenant with a long history: the report finds the start of its window by date
 * (one search request), then pages by checkpoint from there, so the logs before the window are
 * neither read nor counted, however many there are (spec §5: checkpoint paging without `from`
 * need not start at the oldest log on Auth0, and would read the whole retention period if it did).
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`migration-report window start [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let api: ManagementApi;
    let legacyId: string;
    const now = Date.now();

    before(async () => {
      srv = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0' } });
      const legacy = await createClient(srv, { app_type: 'regular_web', name: 'Legacy Backend' });
      legacyId = legacy.client.client_id;
      // 350 logs ten days ago (3.5 checkpoint pages), among them notices that are outside the window.
      await srv.services.store.appendLogs([...filler(340, now - 10 * DAY), ...Array.from({ length: 10 }, (_, i) => depnote(legacyId, now - 10 * DAY + 500 + i))]);
      // Just before the window but within the skew margin: read, not counted.
      await srv.services.store.appendLogs([depnote(legacyId, now - 2 * HOUR - SKEW_MS / 2)]);
      // In the window: two real non-compliant calls.
      for (let i = 0; i < 2; i++) {
        const res = await srv.post('/passwordless/start', { client_id: legacyId, connection: 'email', email: uniqueEmail(), send: 'code' });
        assert.equal(res.status, 200, await res.text());
      }
      api = new ManagementApi({ base: srv.issuer, token: await srv.mgmtToken() });
    });
    after(async () => {
      await srv?.close();
    });

    it('one search request finds the first log by date, one checkpoint page reads the window', async () => {
      const since = now - 2 * HOUR;
      const report = await buildReport(api, { since, until: Date.now() });
      assert.equal(report.total, 2);
      assert.equal(report.applications.length, 1);
      assert.equal(report.applications[0]!.client_id, legacyId);
      assert.equal(report.applications[0]!.count, 2);

      const logRequests = api.requests.filter((r) => r.startsWith('GET /api/v2/logs'));
      assert.equal(logRequests.length, 2, logRequests.join('\n'));
      const search = new URL(logRequests[0]!.slice(4), srv.issuer).searchParams;
      assert.deepEqual(Object.fromEntries(search), { q: `date:[${new Date(since - SKEW_MS).toISOString()} TO *]`, sort: 'date:1', per_page: '1', page: '0' });
      // The checkpoint starts at the log the search found: the skew-margin notice.
      const checkpoint = new URL(logRequests[1]!.slice(4), srv.issuer).searchParams;
      assert.equal(checkpoint.get('take'), '100');
      const anchor = await api.get<LogEvent[]>('logs', { q: `date:[${new Date(since - SKEW_MS).toISOString()} TO *]`, sort: 'date:1', per_page: '1' });
      assert.equal(anchor[0]!.type, 'depnote');
      assert.equal(anchor[0]!.date, new Date(since - SKEW_MS / 2).toISOString());
      assert.equal(checkpoint.get('from'), anchor[0]!.log_id);
    });

    it('a window over several pages follows the checkpoints to its end', async () => {
      // 150 more logs an hour ago: the window now needs two checkpoint pages.
      await srv.services.store.appendLogs([...filler(150, now - HOUR)]);
      const fresh = new ManagementApi(api.conn);
      const report = await buildReport(fresh, { since: now - 2 * HOUR, until: Date.now() });
      assert.equal(report.total, 2);
      const logRequests = fresh.requests.filter((r) => r.startsWith('GET /api/v2/logs'));
      assert.equal(logRequests.length, 3, logRequests.join('\n'));
      const froms = logRequests.slice(1).map((r) => new URL(r.slice(4), srv.issuer).searchParams.get('from'));
      // The second checkpoint is the last log_id of the first page (the Link header's `from`).
      const page1 = await fresh.get<LogEvent[]>('logs', { from: froms[0]!, take: '100' });
      assert.equal(froms[1], page1.at(-1)!.log_id);
    });

    it('a window with no log at all costs one request and is ready', async () => {
      const fresh = new ManagementApi(api.conn);
      const since = Date.now() + SKEW_MS + 1000;
      const report = await buildReport(fresh, { since, until: since + 1000 });
      assert.deepEqual({ ready: report.ready, total: report.total, applications: report.applications }, { ready: true, total: 0, applications: [] });
      assert.equal(fresh.requests.length, 1, fresh.requests.join('\n'));
    });
  });
}
