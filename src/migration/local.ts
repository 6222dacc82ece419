import type { LogEvent } from '../core/model.ts';
import type { Services } from '../services.ts';
import type { LogQuery } from '../store/types.ts';
import { FEATURE_ID, type Notice, isPasswordlessNotice } from './notices.ts';
import { type Report, assembleReport } from './report.ts';
import type { Window } from './window.ts';

/** Rows per store read: the notices are read through the (type, date) index, page by page. */
const PAGE = 1000;

/**
 * The migration report computed in-process from the store (issue 12, the dashboard's Migration
 * panel): the same classification and grouping as `sesame migration-report` (report.ts,
 * classify.ts), which reads the same notices over the Management API of a remote server.
 */
export async function localReport(s: Services, window: Window): Promise<Report & { callers_left: number; [FEATURE_ID]: boolean }> {
  const query: LogQuery = {
    kind: 'and',
    items: [
      { kind: 'term', fields: ['type'], value: 'depnote', wildcard: false },
      { kind: 'range', field: 'date', from: new Date(window.since).toISOString(), to: new Date(window.until).toISOString(), fromInclusive: true, toInclusive: true },
    ],
  };
  const notices: Notice[] = [];
  for (let page = 0; ; page++) {
    const { items } = await s.store.searchLogs({ query, page, perPage: PAGE, sort: { field: 'log_id', dir: 'asc' } });
    for (const log of items) if (isPasswordlessNotice(log as LogEvent & Notice)) notices.push(log as LogEvent & Notice);
    if (items.length < PAGE) break;
  }
  const report = await assembleReport(notices, window, async (id) => (await s.store.getClient(id))?.client.app_type ?? null);
  const tenant = await s.store.getTenantSettings();
  return { ...report, callers_left: report.applications.length, [FEATURE_ID]: tenant.flags?.[FEATURE_ID] === true };
}
