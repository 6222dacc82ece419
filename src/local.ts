import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What the CLI's client commands (`migration-report`, `enforce`, `export`, `import`) need to reach
 * the server running on this machine without flags (issue 11, "The CLI and the first hour"): the
 * issuer it listens as, and the Management client generated on its first start. The server keeps
 * them in `<data dir>/local.json`, mode 0600 since it holds a client secret, beside the generated
 * SESAME_SECRET (src/secret.ts).
 */
export interface LocalState {
  /** The issuer of the last start on this data folder (the port bound, when it was derived). */
  issuer?: string;
  /** Every issuer a start on this data folder has served as: where the client below may be sent. */
  issuers?: string[];
  /** The Management client generated on the first start (not SESAME_BOOTSTRAP_CLIENT_*, which the environment already has). */
  client_id?: string;
  client_secret?: string;
}

export const LOCAL_FILE = 'local.json';

/** The data folder of a SESAME_DATABASE_URL, as store/sql/dialect.ts chooses it (none in memory). */
export function dataDirOf(databaseUrl: string): string | undefined {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    return file === ':memory:' ? undefined : dirname(file);
  }
  return './data';
}

export function readLocalState(dataDir: string | undefined): LocalState {
  if (!dataDir) return {};
  const file = join(dataDir, LOCAL_FILE);
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as LocalState) : {};
  } catch {
    return {}; // unreadable: the commands fall back to flags and the environment
  }
}

/** Merges `patch` into the file (created with mode 0600). */
export function writeLocalState(dataDir: string | undefined, patch: LocalState): void {
  if (!dataDir || !existsSync(dataDir)) return;
  const file = join(dataDir, LOCAL_FILE);
  const before = readLocalState(dataDir);
  const issuers = [...new Set([...(Array.isArray(before.issuers) ? before.issuers : []), ...(patch.issuer ? [patch.issuer] : [])])];
  writeFileSync(file, `${JSON.stringify({ ...before, ...patch, issuers }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
}
