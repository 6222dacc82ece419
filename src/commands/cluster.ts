import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/schema.ts';
import type { CommandIO } from './types.ts';

/** Read from `--workers N` / `--workers=N`: a count, an error line, or undefined when absent. */
export function parseWorkers(argv: string[]): { workers?: number; error?: string; rest: string[] } {
  const i = argv.findIndex((a) => a === '--workers' || a.startsWith('--workers='));
  if (i < 0) return { rest: argv };
  const inline = argv[i]!.startsWith('--workers=');
  const value = inline ? argv[i]!.slice('--workers='.length) : argv[i + 1];
  const rest = argv.filter((_, j) => j !== i && (inline || j !== i + 1));
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1 || n > 64) return { error: `--workers takes a whole number from 1 to 64 (got "${value ?? ''}")`, rest };
  return { workers: n, rest };
}

/**
 * Why `--workers` cannot serve this database, or undefined. SQLite is one process's file with one
 * writer; its per-process caches, group commit and mail worker assume they are alone. Refused, not
 * made safe: one SQLite process already serves more than the disk's single writer can commit.
 */
export function clusterRefusal(config: Config): string | undefined {
  if (config.databaseUrl.startsWith('postgres')) return undefined;
  return 'Cannot start with --workers: several processes need PostgreSQL (SESAME_DATABASE_URL=postgres://…); SQLite serves from one process, so run sesame start without --workers.';
}

/** In a worker: whether it is the first one, which alone prints the welcome banner. */
export const isFirstWorker = () => !cluster.isWorker || cluster.worker?.id === 1;

/**
 * The primary of `sesame start --workers N` (node:cluster). It serves nothing itself: N workers run
 * the whole server and share the port (the primary hands out connections round-robin). The first
 * worker starts alone, so a new database is migrated and seeded once; the others follow once it
 * listens. A worker that dies is replaced after a second; one that dies before it ever listened
 * (bad configuration, no database) stops the whole group with exit 1. SIGTERM goes to every worker
 * (Ctrl-C's SIGINT reaches them from the terminal), each drains as a single server does, and the
 * primary exits once all have.
 */
export function runPrimary(n: number, io: CommandIO): void {
  let stopping = false;
  let exitCode = 0;
  const listened = new WeakSet<Worker>();
  const fork = () => {
    const w = cluster.fork();
    w.once('listening', () => {
      listened.add(w);
      io.stdout.write(`sesame: worker ${w.id} (pid ${w.process.pid}) listening\n`);
    });
    return w;
  };
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  fork().once('listening', () => {
    for (let i = 1; i < n && !stopping; i++) fork();
  });
  cluster.on('exit', (w, code, signal) => {
    if (!stopping && !listened.has(w)) {
      io.stderr.write(`sesame: worker ${w.id} exited before it listened (${signal ?? code}); stopping\n`);
      exitCode = 1;
      stopAll('SIGTERM');
    } else if (!stopping) {
      io.stderr.write(`sesame: worker ${w.id} (pid ${w.process.pid}) exited (${signal ?? code}); starting another\n`);
      setTimeout(() => !stopping && fork(), 1000).unref();
      return;
    }
    if (code !== 0 && signal === null) exitCode = exitCode || code || 1;
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  });
  process.on('SIGTERM', () => {
    if (stopping) process.exit(1); // a second signal: at once, as a single server does
    stopAll('SIGTERM');
  });
  // Ctrl-C reaches every process of the terminal's group: the workers have it already (forwarding
  // it would be their second signal, which means "exit at once").
  process.on('SIGINT', () => {
    if (stopping) process.exit(1);
    stopping = true;
  });
}
