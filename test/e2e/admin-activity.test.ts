import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeLog } from '../../src/core/logs.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

const NOW = Date.parse('2026-12-07T10:30:00.000Z');
const H = 3_600_000;
const D = 24 * H;

/** Issue 12, Activity page: Auth0's /stats endpoints and Sesame's /sesame/activity, counted in SQL. */
for (const { backend, skip } of await backendMatrix()) {
  describe(`stats and activity [${backend}]`, { skip }, () => {
    let srv: TestServer;
    before(async () => {
      srv = await bootServer({ backend, now: () => NOW });
      const at = (type: string, ms: number, user_id?: string) => makeLog(type, null, user_id ? { user_id } : {}, ms);
      await srv.services.store.appendLogs([
        at('s', NOW - 10 * 60_000, 'u1'), at('s', NOW - 20 * 60_000, 'u1'), at('s', NOW - 2 * H, 'u2'), // today
        at('ss', NOW - 2 * H, 'u2'),
        at('s', NOW - 3 * D, 'u3'), at('s', NOW - 40 * D, 'u4'), // u4: outside the 30 active days
        at('cs', NOW - 5 * 60_000), at('cs', NOW - 25 * H), at('cls', NOW - H),
        at('f', NOW - H), at('fepotpft', NOW - H), at('fp', NOW - 5 * D),
        at('depnote', NOW - 30 * 60_000), at('depnote', NOW - 6 * D), at('depnote', NOW - 8 * D),
        at('sapi', NOW - 60_000), // not counted
      ]);
    });
    after(() => srv?.close());

    it('GET /stats/daily: Auth0 shape, one entry per day of the inclusive range, logins = s, signups = ss', async () => {
      const days = await mgmt(srv, 'GET', '/stats/daily?from=20261204&to=20261207');
      assert.deepEqual(days.map((d: any) => [d.date, d.logins, d.signups, d.leaked_passwords]), [
        ['2026-12-04T00:00:00.000Z', 1, 0, 0],
        ['2026-12-05T00:00:00.000Z', 0, 0, 0],
        ['2026-12-06T00:00:00.000Z', 0, 0, 0],
        ['2026-12-07T00:00:00.000Z', 3, 1, 0],
      ]);
      assert.equal(days[3].created_at, new Date(NOW - 2 * H).toISOString());
      assert.equal(days[3].updated_at, new Date(NOW - 10 * 60_000).toISOString());
      assert.equal((await mgmt(srv, 'GET', '/stats/daily')).length, 30, 'default: the last 30 days');
      for (const q of ['from=20261301', 'from=2026-12-01', 'from=20261208&to=20261207', 'from=20200101&to=20261207', 'since=20261201']) {
        const res = await mgmtCall(srv, 'GET', `/stats/daily?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(res.json.statusCode, 400);
      }
    });

    it('GET /stats/active-users: distinct users who signed in during the last 30 days', async () => {
      assert.equal(await mgmt(srv, 'GET', '/stats/active-users'), 3);
    });

    it('GET /sesame/activity?window=24h: 24 hourly buckets and today', async () => {
      const a = await mgmt(srv, 'GET', '/sesame/activity?window=24h');
      assert.deepEqual([a.bucket, a.from, a.to, a.series.length], ['hour', '2026-12-06T11:00:00.000Z', '2026-12-07T11:00:00.000Z', 24]);
      const at = (t: string) => a.series.find((p: any) => p.t === t);
      assert.deepEqual(at('2026-12-07T10:00:00.000Z'), { t: '2026-12-07T10:00:00.000Z', logins: 2, failures: 0, codes_sent: 1, links_sent: 0, depnotes: 1 });
      assert.deepEqual(at('2026-12-07T09:00:00.000Z'), { t: '2026-12-07T09:00:00.000Z', logins: 0, failures: 2, codes_sent: 0, links_sent: 1, depnotes: 0 });
      assert.equal(at('2026-12-07T08:00:00.000Z').logins, 1);
      assert.deepEqual(a.today, { logins: 3, failures: 2, codes_sent: 1, links_sent: 1, depnotes: 1 });
      assert.equal(a.series.reduce((n: number, p: any) => n + p.codes_sent, 0), 1, 'the code sent 25 hours ago is outside');
    });

    it('GET /sesame/activity?window=7d: 7 daily buckets; bad windows are 400', async () => {
      const a = await mgmt(srv, 'GET', '/sesame/activity?window=7d');
      assert.deepEqual([a.bucket, a.from, a.to, a.series.length], ['day', '2026-12-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z', 7]);
      assert.deepEqual(a.series.map((p: any) => p.depnotes), [1, 0, 0, 0, 0, 0, 1]);
      assert.deepEqual(a.series.map((p: any) => p.logins), [0, 0, 0, 1, 0, 0, 3]);
      assert.deepEqual(a.series.map((p: any) => p.failures), [0, 1, 0, 0, 0, 0, 2]);
      assert.equal((await mgmtCall(srv, 'GET', '/sesame/activity?window=30d')).status, 400);
    });
  });
}
