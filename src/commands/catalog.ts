import type { Command } from './types.ts';

/**
 * Every command, in the order `sesame help` lists them: its name, its line in the help, and its
 * module, loaded only when the command runs. `sesame export` or `sesame migration-report` then loads
 * an HTTP client, not the whole server: a CLI call took ~2 s of CPU from the sources when every
 * command was imported up front. A new command is one module plus one entry here.
 */
export interface CommandEntry {
  name: string;
  /** One line for `sesame help`. */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'start', summary: 'Serve Sesame (default when no command is given)', load: async () => (await import('./start.ts')).startCommand },
  { name: 'migration-report', summary: 'Report the callers that would break if enforcement were on', load: async () => (await import('./migration-report.ts')).migrationReportCommand },
  { name: 'enforce', summary: 'Turn passwordless client-authentication enforcement on when ready (--off: off)', load: async () => (await import('./enforce.ts')).enforceCommand },
  { name: 'logs', summary: 'prune --older-than <n>s|m|h|d: delete older logs now', load: async () => (await import('./logs.ts')).logsCommand },
  { name: 'export', summary: 'Write the tenant configuration as YAML or JSON (auth0-deploy-cli layout)', load: async () => (await import('./export.ts')).exportCommand },
  { name: 'import', summary: 'Make the tenant match an exported file (--dry-run, --prune)', load: async () => (await import('./import.ts')).importCommand },
  { name: 'secrets', summary: 'reseal: move stored secrets to SESAME_SECRET after a rotation', load: async () => (await import('./secrets.ts')).secretsCommand },
  { name: 'admin', summary: 'Add, remove or list the administrators of the dashboard', load: async () => (await import('./admin.ts')).adminCommand },
  { name: 'db', summary: 'copy --from <url> --to <url>: copy the whole database (SQLite → PostgreSQL)', load: async () => (await import('./db.ts')).dbCommand },
];
