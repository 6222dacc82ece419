import { ApiFailure, ManagementApi, connect } from '../migration/api.ts';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionFlags, parse } from '../migration/args.ts';
import { formatTable } from '../migration/format.ts';
import { FEATURE_ID } from '../migration/notices.ts';
import { buildReport, progressBar } from '../migration/report.ts';
import { parseWindow } from '../migration/window.ts';
import { withErrors } from './migration-report.ts';
import { confirm } from './confirm.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame enforce [options]

Runs the migration report for the window and turns the tenant flag
${FEATURE_ID} on when no caller would break (or with --force).
--off turns it off again. On a terminal it asks for confirmation; without a terminal it needs
--yes and otherwise refuses (exit 2), so a pipeline never hangs on or silently skips a prompt.
Exit 0 done, 1 refused because not ready, 2 error or not confirmed.

${CONNECTION_USAGE}
  --force                  Turn it on even when calls would break
  --off                    Turn enforcement off (no report)
  --yes                    Do not ask for confirmation

Examples:
  sesame enforce                                       # report, then ask before turning it on
  sesame enforce --since 14d --yes                     # in a pipeline: no prompt
  sesame enforce --off --yes                           # roll back
`;

type Settings = { flags?: Record<string, boolean> };

/** Issue 4 §2: turn `flags.enforce_client_authentication_on_passwordless_start` on safely, or off. */
export const enforceCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    return withErrors(io, async () => {
      const { values } = parse(argv, { ...CONNECTION_OPTIONS, force: { type: 'boolean' }, off: { type: 'boolean' }, yes: { type: 'boolean' } });
      if (values.off && values.force) throw new ApiFailure('--off and --force exclude each other');
      const window = parseWindow(values.since, Date.now());
      const api = new ManagementApi(await connect(connectionFlags(values), io.env));
      const target = !values.off;

      const current = (await api.get<Settings>('tenants/settings')).flags?.[FEATURE_ID] === true;
      if (target) {
        const bar = progressBar(io.stderr);
        const report = await buildReport(api, window, bar);
        bar.done();
        io.stdout.write(formatTable(report));
        if (!report.ready && !values.force) {
          io.stdout.write(`Refused: enforcement would reject the calls above. Fix them and run again, or use --force.\n`);
          return 1;
        }
      }
      if (current === target) {
        io.stdout.write(`Enforcement is already ${target ? 'on' : 'off'}; nothing changed.\n`);
        return 0;
      }
      if (!values.yes) {
        const question = `Turn ${FEATURE_ID} ${target ? 'ON' : 'OFF'} at ${api.conn.base}? [y/N] `;
        if (!(await confirm(io, question))) return 2;
      }
      const after = await api.patch<Settings>('tenants/settings', { flags: { [FEATURE_ID]: target } });
      if ((after.flags?.[FEATURE_ID] === true) !== target) throw new ApiFailure(`The server did not apply the flag: it still answers ${FEATURE_ID}=${String(after.flags?.[FEATURE_ID])}`);
      io.stdout.write(
        target
          ? `Enforcement turned on at ${api.conn.base}: unauthenticated /passwordless/start calls from confidential applications now get 403. Roll back with: ${rollback(values, io.stdin.isTTY === true)}\n`
          : `Enforcement turned off at ${api.conn.base}: unauthenticated calls are accepted again (with a depnote log each).\n`,
      );
      return 0;
    });
  },
};

/**
 * The rollback command as it works from where it is printed: with the server it was run against, and
 * `--yes` when there is no terminal to confirm on (confirm.ts refuses to prompt then).
 */
function rollback(flags: { domain?: string; token?: string; 'client-id'?: string }, tty: boolean): string {
  const { domain } = flags;
  const quoted = domain === undefined ? '' : ` --domain ${/^[\w.:/-]+$/.test(domain) ? domain : `'${domain.replaceAll("'", "'\\''")}'`}`;
  // Credentials given as flags are needed again; secrets are never printed, only their place.
  const creds = flags.token !== undefined ? ' --token <token>' : flags['client-id'] !== undefined ? ' --client-id <id> --client-secret <secret>' : '';
  return `sesame enforce --off${quoted}${creds}${tty ? '' : ' --yes'}`;
}
