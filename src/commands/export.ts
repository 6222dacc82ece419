import { writeFileSync } from 'node:fs';
import { ApiFailure, ManagementApi, connect } from '../migration/api.ts';
import { CONNECTION_OPTIONS, CREDENTIALS_USAGE, DOMAIN_USAGE, connectionFlags, parse } from '../migration/args.ts';
import { readTenant } from '../tenant-io/document.ts';
import { formatFor, serialize } from '../tenant-io/format.ts';
import { describeMissing, missingSecrets } from '../tenant-io/secrets.ts';
import { withErrors } from './migration-report.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame export [options]

Writes the tenant's configuration in auth0-deploy-cli's layout (tenant, clients, connections,
resourceServers, clientGrants, emailProvider; clients referenced by name), without ids, timestamps
or secrets, the system APIs and the Management API client. Exit 0 done, 2 error.

${DOMAIN_USAGE}
  --token TOKEN            Management API token with the read: scopes
${CREDENTIALS_USAGE}
  --output FILE            Write to FILE instead of stdout
  --format json|yaml       Default: from the file extension (.json), YAML otherwise
  --include-secrets        Keep client secrets the server returns (never the SMTP password or
                           SMS provider secrets); each secret left out is named on stderr

Examples:
  sesame export --output tenant.yaml                   # the local server, after npm start
  sesame export --domain tenant.eu.auth0.com --client-id … --client-secret … --format json
`;

/** Issue 4 §3: `sesame export`. */
export const exportCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    return withErrors(io, async () => {
      const { since: _since, ...connection } = CONNECTION_OPTIONS;
      const { values } = parse(argv, { ...connection, output: { type: 'string' }, format: { type: 'string' }, 'include-secrets': { type: 'boolean' } });
      const format = formatFor(values.output, values.format);
      const api = new ManagementApi(await connect(connectionFlags(values), io.env));
      const { doc } = await readTenant(api, { includeSecrets: values['include-secrets'] === true });
      const text = serialize(doc, format);
      // Every secret the document lacks is named, with the flag that supplies it (issue 11).
      for (const m of missingSecrets(doc)) io.stderr.write(`${describeMissing(m, 'is left out')}\n`);
      if (values.output === undefined) io.stdout.write(text);
      else {
        try {
          // 0600: with --include-secrets the file holds credentials.
          writeFileSync(values.output, text, { mode: 0o600 });
        } catch (err) {
          throw new ApiFailure(`Cannot write ${values.output}: ${(err as Error).message}`);
        }
        io.stderr.write(`Exported ${api.conn.base} to ${values.output}\n`);
      }
      return 0;
    });
  },
};
