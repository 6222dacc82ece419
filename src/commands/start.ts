import cluster from 'node:cluster';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../app.ts';
import type { Config } from '../config/schema.ts';
import { writeLocalState } from '../local.ts';
import { listAdmins } from '../core/admins.ts';
import { installSignalHandlers, listen } from '../server.ts';
import { welcome } from '../welcome.ts';
import { ConfigError } from '../config/load.ts';
import { clusterRefusal, isFirstWorker, parseWorkers, runPrimary } from './cluster.ts';
import { commandConfig } from './config.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame start [--workers N]

Serves Sesame: the Authentication API, the Management API (/api/v2) and the hosted login page.
Configuration comes from SESAME_* environment variables (sesame help lists them all). The first
start of a database prints a Management API client and a "Default App" (secrets shown once) and
remembers the Management client in the data folder (local.json, mode 0600), so sesame
migration-report, enforce, export and import reach this server without flags.
Exit 1 on bad configuration or when the port is taken; otherwise it runs until SIGTERM or SIGINT.

Options:
  --workers N   N server processes on this machine sharing the port (node:cluster); PostgreSQL
                only, refused on SQLite. SIGTERM stops them all.

Examples:
  sesame start
  SESAME_PORT=4000 SESAME_DATABASE_URL=sqlite:./data/dev.db sesame start
  SESAME_ISSUER=https://auth.example.com/ SESAME_DATABASE_URL=postgres://sesame@db/sesame sesame start
  SESAME_DATABASE_URL=postgres://sesame@db/sesame sesame start --workers 2
`;

/** `sesame start`: validate the configuration, check the port, build, listen, print the welcome banner. */
export const startCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { workers, error, rest } = parseWorkers(argv);
    if (error || rest.length > 0) {
      io.stderr.write(`${error ?? `sesame start takes no arguments but --workers N (got "${rest[0]}"); configure it with SESAME_* variables.`}\n\n${USAGE}`);
      return 2;
    }
    const config = commandConfig(io);
    if (!config) return 1;
    if (workers !== undefined && cluster.isPrimary) {
      const refusal = clusterRefusal(config);
      if (refusal) {
        io.stderr.write(`${refusal}\n`);
        return 1;
      }
      const busy = await portTaken(config);
      if (busy) {
        io.stderr.write(`${busy}\n`);
        return 1;
      }
      runPrimary(workers, io);
      return -1;
    }
    // Before anything is opened or written: a port in use changes nothing in the database. (A
    // cluster worker shares the primary's port: the primary probed it.)
    const busy = cluster.isWorker ? undefined : await portTaken(config);
    if (busy) {
      io.stderr.write(`${busy}\n`);
      return 1;
    }
    let built;
    try {
      built = await buildApp(config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr.write(`${err.message}\n`);
      return 1;
    }
    const { app, services, report, dataDir } = built;
    installSignalHandlers(app);
    let base: string;
    try {
      base = await listen(app, services);
    } catch (err) {
      const line = listenFailure(err, config);
      if (!line) throw err;
      await app.close();
      io.stderr.write(`${line}\n`);
      return 1;
    }
    writeLocalState(dataDir, { issuer: services.issuer, ...(report.managementClient ?? {}) });
    // The mail thread logs its transport (development mode: codes printed to the log) on its own
    // time: the banner waits for that line, so that no log line lands in or right after it (issue
    // 11). Bounded: a thread that is slow to start delays the banner, never the server.
    await Promise.race([services.mail.ready(), sleep(BANNER_WAIT_MS, undefined, { ref: false })]);
    if (isFirstWorker()) io.stdout.write(welcome(base, services.issuer, report, (await listAdmins(services)).length));
    return -1; // keep running
  },
};

const BANNER_WAIT_MS = 10_000;

/** One line for the usual reasons a port cannot be bound, or undefined for anything else. */
function listenFailure(err: unknown, config: Config): string | undefined {
  const code = (err as { code?: unknown }).code;
  const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return `Cannot start: ${where} is already in use (EADDRINUSE). Stop the other server or choose another port: SESAME_PORT=${config.port + 1} sesame start`;
  if (code === 'EACCES') return `Cannot start: no permission to listen on ${where} (EACCES). Use a port above 1023 or run with the needed privilege.`;
  if (code === 'EADDRNOTAVAIL') return `Cannot start: ${config.host} is not an address of this machine (EADDRNOTAVAIL). Check SESAME_HOST.`;
  return undefined;
}

/** Binds and releases the port, so that a taken one is reported before buildApp writes anything. */
async function portTaken(config: Config): Promise<string | undefined> {
  if (config.port === 0) return undefined;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ port: config.port, host: config.host, exclusive: true }, resolve);
    });
  } catch (err) {
    return listenFailure(err, config);
  } finally {
    await new Promise<void>((r) => (probe.listening ? probe.close(() => r()) : r()));
  }
  return undefined;
}
