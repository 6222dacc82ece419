import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as init from './migrations/2026-11-27T00-00-init.ts';
import * as loginColumns from './migrations/2026-11-27T01-00-login-columns-ref-version.ts';
import * as artifacts from './migrations/2026-11-28T00-00-artifacts.ts';
import * as resourceServers from './migrations/2026-11-28T01-00-resource-servers.ts';
import * as signingKeyNext from './migrations/2026-11-28T02-00-signing-key-next.ts';
import * as logStreams from './migrations/2026-11-28T03-00-log-streams.ts';
import * as windowEvents from './migrations/2026-11-28T04-00-window-events.ts';
import * as bruteForce from './migrations/2026-11-28T05-00-brute-force.ts';
import * as rbac from './migrations/2026-12-07T00-00-rbac.ts';
import * as identifierLimits from './migrations/2026-12-07T00-00-identifier-limits.ts';
import * as admins from './migrations/2026-12-07T00-30-admins.ts';
import * as logsUserIndex from './migrations/2026-12-07T01-00-logs-user-index.ts';
import * as reserveWindowsFn from './migrations/2026-12-07T02-00-reserve-windows-fn.ts';

type Dialect = 'sqlite' | 'postgres';
type Module = { up(db: Kysely<any>, dialect: Dialect): Promise<void> };

/** Listed statically so the build needs no file-system discovery; names sort by date. */
const MIGRATIONS: Record<string, Module> = {
  '2026-11-27T00-00-init': init,
  '2026-11-27T01-00-login-columns-ref-version': loginColumns,
  '2026-11-28T00-00-artifacts': artifacts,
  '2026-11-28T01-00-resource-servers': resourceServers,
  '2026-11-28T02-00-signing-key-next': signingKeyNext,
  '2026-11-28T03-00-log-streams': logStreams,
  '2026-11-28T04-00-window-events': windowEvents,
  '2026-11-28T05-00-brute-force': bruteForce,
  '2026-12-07T00-00-rbac': rbac,
  '2026-12-07T00-00-identifier-limits': identifierLimits,
  '2026-12-07T00-30-admins': admins,
  '2026-12-07T01-00-logs-user-index': logsUserIndex,
  '2026-12-07T02-00-reserve-windows-fn': reserveWindowsFn,
};

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (d) => m.up(d, dialect) };
      return out;
    },
  };
  const { error, results } = await new Migrator({ db, provider, migrationTableName: 'sesame_migrations', migrationLockTableName: 'sesame_migrations_lock' }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`, { cause: error });
  }
}
