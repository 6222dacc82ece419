import { existsSync } from 'node:fs';
import { copyDatabase } from '../store/sql/copy.ts';
import type { Command, CommandIO } from './types.ts';

const USAGE = `Usage: sesame db copy --from <database URL> --to <database URL> [--force]

Copies a whole Sesame database to another (SQLite to PostgreSQL, or back): clients with their
secret hashes, connections, users, signing keys, logs, the pending outbox, live codes and
sessions, settings, roles, APIs, log streams and limits. Every table the migrations create is
copied, then the row counts of both sides are compared and printed.

Sealed values and hashes are copied as they are: start Sesame on the target with the same
SESAME_SECRET (and SESAME_SECRET_PREVIOUS, if set). Stop the servers using the source first;
writes made during the copy are not carried over.

  --from URL      The database to read (migrated to this version of Sesame first)
  --to URL        The database to write (created tables by its migrations; written in one transaction)
  --force         Replace what the target holds. Without it a target with data is refused (exit 1);
                  with it, running the copy again makes the target an exact copy again.

Exit 0 copied and verified, 1 refused or failed (the target is left as it was), 2 bad usage.

Example:
  sesame db copy --from sqlite:./data/sesame.db --to postgres://sesame@db.internal:5432/sesame
`;

const URL_FORMAT = /^(sqlite:.+|postgres(ql)?:\/\/.+)$/;

function parseArgs(argv: string[]): { from?: string; to?: string; force: boolean } | string {
  const out: { from?: string; to?: string; force: boolean } = { force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--force' && inline === undefined) out.force = true;
    else if (flag === '--from' || flag === '--to') {
      const v = inline ?? argv[++i];
      if (v === undefined) return `${flag} needs a database URL`;
      out[flag === '--from' ? 'from' : 'to'] = v;
    } else return `Unknown option "${a}"`;
  }
  return out;
}

/** `sesame db copy`: moves a tenant between databases (issue 13 §4), see src/store/sql/copy.ts. */
export const dbCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    const args = sub === 'copy' ? parseArgs(rest) : 'Unknown subcommand';
    if (typeof args === 'string' || !args.from || !args.to) {
      io.stderr.write(`${typeof args === 'string' ? `${args}.\n` : '--from and --to are required.\n'}${USAGE}`);
      return 2;
    }
    for (const url of [args.from, args.to]) {
      if (!URL_FORMAT.test(url)) return usageError(io, `Not a database URL: "${url}" (sqlite:<path> or postgres://…).`);
    }
    if (args.from === args.to) return usageError(io, '--from and --to name the same database.');
    // Opening a SQLite path that does not exist would create an empty database and copy nothing.
    const file = args.from.startsWith('sqlite:') ? args.from.slice('sqlite:'.length) : undefined;
    if (file === ':memory:' || (file !== undefined && !existsSync(file))) return usageError(io, `No SQLite database at ${file}.`);

    try {
      const result = await copyDatabase(args.from, args.to, { force: args.force });
      if (!result.ok) {
        io.stderr.write(`The target is not empty (${result.nonEmpty.map((t) => `${t.table}: ${t.rows}`).join(', ')}); nothing was written.\nRun again with --force to replace its content with the source's.\n`);
        return 1;
      }
      const width = Math.max(...result.tables.map((t) => t.table.length));
      io.stdout.write(`Copied ${result.tables.length} tables; rows in source and target:\n`);
      for (const t of result.tables) io.stdout.write(`  ${t.table.padEnd(width)}  ${String(t.source).padStart(8)}  ${String(t.target).padStart(8)}\n`);
      io.stdout.write('Every count matches. Start Sesame on the target with the same SESAME_SECRET.\n');
      return 0;
    } catch (err) {
      // The driver's message names the table or the connection problem; never a row's content.
      io.stderr.write(`Copy failed, the target is unchanged: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

function usageError(io: CommandIO, message: string): number {
  io.stderr.write(`${message}\n`);
  return 2;
}
