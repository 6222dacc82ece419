import type { Application } from './classify.ts';
import type { Report } from './report.ts';

const HEADERS = ['Application', 'Client ID', 'App type', 'Caller', 'Calls', 'First seen', 'Last seen', 'SDKs'];

const sdkList = (a: Application) => a.sdks.map((s) => (s.version ? `${s.name}@${s.version}` : s.name)).join(', ') || '-';
const row = (a: Application) => [a.client_name || '(unnamed)', a.client_id, a.app_type ?? '?', a.classification, String(a.count), a.first_seen, a.last_seen, sdkList(a)];

function summary(r: Report): string {
  return r.ready
    ? `Ready: no unauthenticated /passwordless/start call from a confidential application between ${r.window.since} and ${r.window.until}.`
    : `Not ready: ${r.total} unauthenticated /passwordless/start call(s) from ${r.applications.length} application/caller kind(s) between ${r.window.since} and ${r.window.until}.`;
}

/** The default output: an aligned table (names never truncated) and, per entry, where it calls from and the fix. */
export function formatTable(r: Report): string {
  const lines = [summary(r)];
  if (r.applications.length > 0) {
    const rows = [HEADERS, ...r.applications.map(row)];
    const widths = HEADERS.map((_, i) => Math.max(...rows.map((cells) => cells[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    lines.push('', line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...r.applications.map((a) => line(row(a))));
    lines.push('', 'Fixes:');
    r.applications.forEach((a, i) => {
      lines.push(`${i + 1}. ${a.client_name || a.client_id} (${a.classification})`);
      lines.push(`   IPs: ${a.ips.join(', ') || '-'}`);
      lines.push(`   User agents: ${a.user_agents.join(' | ') || '-'}`);
      lines.push(`   Fix: ${a.fix}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

/** Markdown escaping for table cells: pipes and line breaks would break the row. */
const md = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

export function formatMarkdown(r: Report): string {
  const lines = ['# Passwordless migration report', '', summary(r)];
  if (r.applications.length > 0) {
    const headers = [...HEADERS, 'IPs', 'User agents', 'Fix'];
    lines.push('', `| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`);
    for (const a of r.applications) {
      const cells = [...row(a), a.ips.join(', ') || '-', a.user_agents.join('; ') || '-', a.fix];
      lines.push(`| ${cells.map(md).join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const formatJson = (r: Report): string => `${JSON.stringify(r, null, 2)}\n`;
