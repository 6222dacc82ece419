import type { ManagementApi } from './api.ts';
import { type Application, group } from './classify.ts';
import { type Notice, readNotices } from './notices.ts';
import type { Window } from './window.ts';

export interface Report {
  /** No passwordless depnote in the window: enforcement breaks no caller seen in it. */
  ready: boolean;
  window: { since: string; until: string };
  /** Notices in the window. */
  total: number;
  applications: Application[];
}

/**
 * Reads the window's notices and groups them; `progress` receives the read fraction. App types are
 * looked up once per application (`fields=app_type`), since logs do not carry them.
 */
export async function buildReport(api: ManagementApi, window: Window, progress?: (fraction: number, read: number) => void): Promise<Report> {
  const notices = await readNotices(api, window, progress);
  return assembleReport(notices, window, async (id) => {
    const client = await api.find<{ app_type?: string }>(`clients/${encodeURIComponent(id)}`, { fields: 'app_type', include_fields: 'true' });
    return client?.app_type ?? null;
  });
}

/**
 * The report from the window's notices, however they were read: over the Management API (the CLI,
 * above) or from the store in-process (the dashboard's GET /api/v2/sesame/migration, local.ts).
 * `appType` answers null for an application that no longer exists.
 */
export async function assembleReport(notices: Notice[], window: Window, appType: (clientId: string) => Promise<string | null>): Promise<Report> {
  const appTypes = new Map<string, string | null>();
  for (const id of new Set(notices.map((n) => n.client_id ?? '').filter((id) => id !== ''))) appTypes.set(id, await appType(id));
  return {
    ready: notices.length === 0,
    window: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString() },
    total: notices.length,
    applications: group(notices, appTypes),
  };
}

/** A one-line progress bar for a terminal: `\r[#####.....] 50% 1234 logs`. */
export function progressBar(stream: NodeJS.WritableStream & { isTTY?: boolean }): ((fraction: number, read: number) => void) & { done(): void } {
  const tty = stream.isTTY === true;
  const draw = (fraction: number, read: number) => {
    if (!tty) return;
    const width = 30;
    const full = Math.round(fraction * width);
    stream.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${read} logs read`);
  };
  return Object.assign(draw, { done: () => tty && void stream.write('\r\u001b[K') });
}
