import { ApiFailure, ManagementApi, connect } from '../migration/api.ts';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionFlags, parse } from '../migration/args.ts';
import { formatJson, formatMarkdown, formatTable } from '../migration/format.ts';
import { buildReport, progressBar } from '../migration/report.ts';
import { parseWindow } from '../migration/window.ts';
import type { Command, CommandIO } from './types.ts';

const USAGE = `Usage: sesame migration-report [options]

Lists the unauthenticated /passwordless/start calls from confidential applications (the depnote
logs of enforce_client_authentication_on_passwordless_start) in the window, per application and
kind of caller, with the fix for each. Exit 0 ready, 1 not ready, 2 error.

${CONNECTION_USAGE}
  --markdown               Markdown table instead of the text table
  --json                   One JSON document {ready, window, total, applications}

Examples:
  sesame migration-report                              # the local server, after npm start
  sesame migration-report --domain http://localhost:3000 --since 7d --markdown
  sesame migration-report --domain tenant.eu.auth0.com --client-id … --client-secret … --json
`;

/** Issue 4 §1: the readiness report, against Sesame or any Auth0-compatible Management API. */
export const migrationReportCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    return withErrors(io, async () => {
      const { values } = parse(argv, { ...CONNECTION_OPTIONS, markdown: { type: 'boolean' }, json: { type: 'boolean' } });
      if (values.markdown && values.json) throw new ApiFailure('--markdown and --json exclude each other');
      const window = parseWindow(values.since, Date.now());
      const api = new ManagementApi(await connect(connectionFlags(values), io.env));
      const bar = progressBar(io.stderr);
      const report = await buildReport(api, window, bar);
      bar.done();
      io.stdout.write(values.json ? formatJson(report) : values.markdown ? formatMarkdown(report) : formatTable(report));
      return report.ready ? 0 : 1;
    });
  },
};

/** Every failure (bad flag, network, 401…) is exit 2 with one clear line on stderr and nothing on stdout. */
export async function withErrors(io: CommandIO, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    io.stderr.write(`${err instanceof ApiFailure ? err.message : `Unexpected error: ${(err as Error).message ?? String(err)}`}\n`);
    return 2;
  }
}
