import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { Migrator, sql } from './kysely.ts';
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
import * as outboxOwner from './migrations/2026-12-07T02-00-outbox-owner.ts';
import * as reserveWindowsFn from './migrations/2026-12-07T02-00-reserve-windows-fn.ts';
import * as reserveWindowsBatchFn from './migrations/2026-12-07T03-00-reserve-windows-batch-fn.ts';
import * as reserveWindowsSetBased from './migrations/2026-12-07T04-00-reserve-windows-set-based.ts';

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
  '2026-12-07T02-00-outbox-owner': outboxOwner,
  '2026-12-07T02-00-reserve-windows-fn': reserveWindowsFn,
  '2026-12-07T03-00-reserve-windows-batch-fn': reserveWindowsBatchFn,
  '2026-12-07T04-00-reserve-windows-set-based': reserveWindowsSetBased,
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

/** PostgreSQL advisory lock key of Sesame's first-start seeding (any constant other tools will not pick). */
const STARTUP_LOCK = 0x5e5a3e_b007n;

/**
 * Runs `fn` while holding a database-wide lock, so that instances started together on a new
 * PostgreSQL database seed it once (one Default App, one management client; issue 13 §4). The
 * migrations have their own lock (Kysely's migrator takes `pg_advisory_lock`); the seeding that
 * follows them needed one too. A session-level advisory lock on one pooled connection while `fn`
 * runs on the others; if the process dies the server releases it with the connection. SQLite: a
 * file has one owning process (several instances need PostgreSQL), so `fn` simply runs.
 */
export async function withStartupLock<T>(db: Kysely<any>, dialect: Dialect, fn: () => Promise<T>): Promise<T> {
  if (dialect !== 'postgres') return fn();
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${sql.lit(STARTUP_LOCK)})`.execute(conn);
    try {
      return await fn();
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(STARTUP_LOCK)})`.execute(conn);
    }
  });
}
