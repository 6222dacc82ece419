import { parseArgs } from 'node:util';
import { ApiFailure, ManagementApi, connect } from '../migration/api.ts';
import { CONNECTION_OPTIONS, connectionFlags } from '../migration/args.ts';
import { withErrors } from './migration-report.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame admin add <email> | remove <email> | list [options]

Administrators of the dashboard at /admin: whoever signs in there with one of these emails gets a
Management API token. Besides the emails of SESAME_ADMIN_EMAILS (listed as "env"), they are kept
in the database; an email needs no user yet. Goes through the Management API
(POST/DELETE/GET /api/v2/sesame/admins, scopes update:admins / read:admins). Exit 0 done, 2 error.

  --domain host[:port]     Management API at https://host[:port]/ (default: SESAME_ISSUER)
  --token TOKEN            Management API token
  --client-id ID           …or a client_credentials grant with this client
  --client-secret SECRET   (default: SESAME_BOOTSTRAP_CLIENT_ID/SECRET)
`;

interface Admin {
  email: string;
  source: 'env' | 'database';
  created_at: string | null;
}

/** Issue 12: `sesame admin add|remove|list`. */
export const adminCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(USAGE);
      return 0;
    }
    return withErrors(io, async () => {
      const { since: _since, ...options } = CONNECTION_OPTIONS;
      let parsed;
      try {
        parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
      } catch (err) {
        throw new ApiFailure((err as Error).message);
      }
      const [action, email, ...rest] = parsed.positionals;
      const wantsEmail = action === 'add' || action === 'remove';
      if (!(wantsEmail || action === 'list') || (wantsEmail ? email === undefined || rest.length > 0 : email !== undefined)) {
        throw new ApiFailure(`Expected: sesame admin add <email> | remove <email> | list (see sesame admin --help)`);
      }
      const api = new ManagementApi(await connect(connectionFlags(parsed.values), io.env));
      if (action === 'list') {
        const admins = await api.get<Admin[]>('sesame/admins');
        if (admins.length === 0) io.stdout.write('No administrators yet: sesame admin add <email>, or set SESAME_ADMIN_EMAILS.\n');
        for (const a of admins) io.stdout.write(`${a.email}\t${a.source}${a.created_at ? `\t${a.created_at}` : ''}\n`);
        return 0;
      }
      if (action === 'add') {
        const a = await api.post<Admin>('sesame/admins', { email });
        io.stdout.write(`${a.email} is an administrator (${a.source}). Sign in at ${api.conn.base}admin/\n`);
        return 0;
      }
      const known = (await api.get<Admin[]>('sesame/admins')).some((a) => a.email === email!.toLowerCase());
      if (!known) throw new ApiFailure(`${email} is not an administrator`);
      await api.delete(`sesame/admins/${encodeURIComponent(email!)}`);
      io.stdout.write(`${email!.toLowerCase()} is no longer an administrator; their dashboard access ends with their next request.\n`);
      return 0;
    });
  },
};
