import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A PostgreSQL cluster of a test's own (issue 13 §3: a real restart), so that stopping and starting
 * it disturbs no other test file: the shared server on 5432 serves every file running in parallel.
 * Debian's server binaries (postgresql-NN), run as the `postgres` user when the tests run as root
 * (initdb and postgres refuse root), as the current user otherwise.
 */

const PG_LIB = '/usr/lib/postgresql';

/** The newest installed major's bin directory (/usr/lib/postgresql/<major>/bin), if any. */
function serverBin(): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync(PG_LIB).filter((d) => /^\d+$/.test(d) && ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(PG_LIB, d, 'bin', b))));
  } catch {
    return undefined;
  }
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(PG_LIB, newest, 'bin');
}

/** Whom the cluster runs as: the `postgres` user under root, else the current user (no switch). */
function serverUser(): { uid: number; gid: number } | undefined | string {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid, gid };
  } catch {
    return 'running as root, and there is no `postgres` user to run the server as';
  }
}

/**
 * The project's rule for a missing service (as backendMatrix for PostgreSQL): `false` when a private
 * cluster can be made; else the suite skips loudly on a laptop, and in CI (CI=true) this throws.
 */
export function privateClusterSkip(what: string): string | false {
  const bin = serverBin();
  const user = serverUser();
  const why = !bin ? `no PostgreSQL server binaries under ${PG_LIB}/*/bin (apt-get install postgresql)` : typeof user === 'string' ? user : undefined;
  if (!why) return false;
  if (process.env.CI === 'true') throw new Error(`${what} must run in CI, but ${why}`);
  process.stderr.write(`\n!!! SKIPPING ${what}: ${why}\n\n`);
  return `private PostgreSQL cluster unavailable: ${why}`;
}

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/sesame, a database made at start. */
  url: string;
  /** The same server's maintenance database, for a superuser connection. */
  adminUrl: string;
  port: number;
  /** `pg_ctl stop -m fast`: every session is terminated (57P01), then the postmaster exits. */
  stop(): Promise<void>;
  /** `pg_ctl start -w`: back on the same port and data, accepting connections when it resolves. */
  start(): Promise<void>;
  /** The server's own log, for failure messages. */
  log(): string;
  /** Stops the server (immediate) and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * initdb (trust, no fsync: a throwaway cluster), then a server on 127.0.0.1 only, its socket in its
 * own directory. The port is picked below Linux's ephemeral range (32768–60999), where no port-0
 * bind of a parallel test can take it while the cluster is down for a restart; a port taken anyway
 * between the check and the start is retried on another.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = serverBin();
  if (!bin) throw new Error(`no PostgreSQL server binaries under ${PG_LIB}/*/bin`);
  const user = serverUser();
  if (typeof user === 'string') throw new Error(user);
  const dir = mkdtempSync(join(tmpdir(), 'sesame-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const run = (tool: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      // The cluster's directory as cwd: the postgres user may not enter the test's.
      execFile(join(bin, tool), args, { cwd: dir, ...(user ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' }, timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}\n${log().slice(-2000)}`)) : resolve(),
      );
    });

  let port = 0;
  let running = false;
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', logFile, ...args]);
  const start = async () => {
    await ctl('-w', '-t', '20', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start');
    running = true;
  };
  const stopNow = () => {
    // On the way out, even when the test runner ends without its after() hooks.
    if (running) spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: dir, ...(user ?? {}), stdio: 'ignore', timeout: 10_000 });
    running = false;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);

  try {
    await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (err) {
        if (attempt >= 5 || !/could not bind|Address already in use/i.test((err as Error).message + log())) throw err;
      }
    }
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE sesame');
    await admin.end();
  } catch (err) {
    stopNow();
    process.removeListener('exit', stopNow);
    throw err;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/sesame`,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await ctl('-m', 'fast', '-w', '-t', '20', 'stop');
      running = false;
    },
    start,
    log,
    async destroy() {
      stopNow();
      process.removeListener('exit', stopNow);
    },
  };
}

/** A port in 20000–32767 that nothing listens on now. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
