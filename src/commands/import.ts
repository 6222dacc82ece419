import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiFailure, ManagementApi, connect } from '../migration/api.ts';
import { CONNECTION_OPTIONS, CREDENTIALS_USAGE, DOMAIN_USAGE, connectionFlags } from '../migration/args.ts';
import { readTenant } from '../tenant-io/document.ts';
import { applySet, parseDocument } from '../tenant-io/format.ts';
import { plan } from '../tenant-io/plan.ts';
import { sanitizeDocument } from '../tenant-io/sanitize.ts';
import { describeMissing, missingSecrets } from '../tenant-io/secrets.ts';
import { acceptedFields, dropUnsupported } from '../tenant-io/target.ts';
import { withErrors } from './migration-report.ts';
import { confirm } from './confirm.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame import FILE [options]

Makes the tenant match FILE (from sesame export or auth0-deploy-cli): clients and connections
matched by name, resource servers by identifier, client grants by client name and audience.
Creates and updates; deletes only with --prune (never the Management API client or system APIs).
Prints one line per change. Clients created without a secret in FILE get a new one, printed once.
Fields the target does not accept (an Auth0 setting Sesame does not implement, per the target's
/api/v2/openapi.json) are left out, each named on stderr.
On a terminal it asks for confirmation; without one it needs --yes and otherwise refuses (exit 2).
Exit 0 done, 2 error or not confirmed.

${DOMAIN_USAGE}
  --token TOKEN            Management API token with the read:, create:, update: (and delete:) scopes
${CREDENTIALS_USAGE}
  --dry-run                Print the changes, change nothing
  --prune                  Also delete what FILE does not list
  --set path=value         Set a value in FILE's document; a list item is named by its name:
                           emailProvider.credentials.smtp_pass=… (or .api_key, .secretAccessKey,
                           .server_token), connections.sms.options.twilio_token=…
  --yes                    Do not ask for confirmation

Examples:
  sesame import tenant.yaml --dry-run                  # the local server, after npm start
  sesame import tenant.yaml --domain https://auth.example.com --yes \\
    --set emailProvider.credentials.smtp_pass=… --set connections.sms.options.twilio_token=…
`;

/** Issue 4 §3: `sesame import`. */
export const importCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    return withErrors(io, async () => {
      const { since: _since, ...connection } = CONNECTION_OPTIONS;
      let parsed;
      try {
        parsed = parseArgs({
          args: argv,
          options: { ...connection, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean' }, prune: { type: 'boolean' }, set: { type: 'string', multiple: true } },
          strict: true,
          allowPositionals: true,
        });
      } catch (err) {
        throw new ApiFailure((err as Error).message);
      }
      const { values, positionals } = parsed;
      if (positionals.length !== 1) throw new ApiFailure('Usage: sesame import FILE [--dry-run] [--yes] [--prune] [--set path=value …]');
      const file = positionals[0]!;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ApiFailure(`Cannot read ${file}: ${(err as Error).message}`);
      }
      const desired = sanitizeDocument(parseDocument(text, file));
      for (const s of values.set ?? []) applySet(desired, s);

      const api = new ManagementApi(await connect(connectionFlags(values), io.env));
      // Fields the target does not implement are named and left out rather than refused (target.ts).
      const accepted = await acceptedFields(api);
      const wanted = accepted ? dropUnsupported(desired, accepted, (line) => io.stderr.write(`${line}\n`)) : desired;
      const current = await readTenant(api, { includeSecrets: false });
      const changes = plan(current, wanted, values.prune === true);
      // A connection or provider created without its secret cannot send: say so before anything is
      // changed. One that exists keeps the target's secret (a PATCH without it keeps it).
      for (const m of missingSecrets(wanted)) {
        // A provider of another name (smtp → sendgrid) keeps nothing of the target's: it is new too.
        const newProvider = current.doc.emailProvider === undefined || current.doc.emailProvider.name !== wanted.emailProvider?.name;
        const created = m.section === 'connections' ? !current.connectionIds.has(m.name!) : m.section === 'emailProvider' ? newProvider : false;
        if (created) io.stderr.write(`warning: ${describeMissing(m, `is not in ${file}`)}\n`);
      }
      if (changes.length === 0) {
        io.stderr.write(`${api.conn.base} already matches ${file}; nothing to change.\n`);
        return 0;
      }
      for (const c of changes) io.stdout.write(`${c.line}\n`);
      if (values['dry-run']) {
        io.stderr.write(`Dry run: ${changes.length} change(s) listed, nothing changed.\n`);
        return 0;
      }
      if (!values.yes && !(await confirm(io, `Apply ${changes.length} change(s) to ${api.conn.base}? [y/N] `))) return 2;
      const out = (s: string) => io.stdout.write(`${s}\n`);
      let done = 0;
      try {
        for (const c of changes) {
          await c.apply(api, current, out);
          done++;
        }
      } catch (err) {
        throw new ApiFailure(`${changes[done]!.line}: ${(err as Error).message} (${done} of ${changes.length} change(s) made; run the import again to finish)`);
      }
      io.stderr.write(`Imported ${file} into ${api.conn.base}: ${changes.length} change(s).\n`);
      return 0;
    });
  },
};
