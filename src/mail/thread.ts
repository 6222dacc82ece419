import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { MailDelivery } from '../services.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { MAIL_OUTCOMES, type MailOutcome } from '../metrics/observe-store.ts';
import { describeDbError } from '../store/db-errors.ts';
import type { Store } from '../store/types.ts';
import { GATE_LOADING, GATE_STOPPED, newGate } from './thread-gate.ts';
import { MailWorker } from './worker.ts';

const STOP_WAIT_MS = 12_000;
/** A thread that died is restarted after 1 s, 2 s, 4 s … at most a minute; a start that got as far as its database resets it. */
const RESTART_MS = 1_000;
const MAX_RESTART_MS = 60_000;
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};

// Tests and `npm run dev` run the sources through tsx; the build runs the emitted .js.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const MAIN = new URL(FROM_SOURCES ? './thread-main.ts' : './thread-main.js', import.meta.url);

/**
 * V8 heap limits of the thread. Measured under the benchmark (5,000-mail burst, 1,000 starts/s): live
 * heap ~12 MB, old space peak ~20 MB, while V8's default young generation alone (two 16 MB
 * semi-spaces) kept 32 MB resident. A 6 MB young generation (two 2 MB semi-spaces) cut the thread's
 * heap from ~55 MB to ~26 MB with no loss of drain rate (≥ 1,900 mails/s) or delivery delay.
 * The old-space cap is ~5× the measured peak, and it also makes V8 collect sooner (its heap-growth
 * factor shrinks for small limits); running out would only restart the thread (rows stay queued).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 96 };

/**
 * Node 20 keeps module hooks per thread, and tsx installs its own on the main thread only: a thread
 * started from the TypeScript sources registers tsx itself before loading its entry point.
 */
function newThread(workerData: unknown): Worker {
  if (!FROM_SOURCES) return new Worker(MAIN, { workerData, resourceLimits: THREAD_LIMITS });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((m) => m.register()).then(() => import(${JSON.stringify(MAIN.href)}))`, { eval: true, workerData, resourceLimits: THREAD_LIMITS });
}

/**
 * The mail worker on a thread of its own. In-process, every SMTP round trip waits for a turn of the
 * HTTP event loop: when requests saturate it, each turn takes tens of milliseconds and delivery falls
 * to a few mails a second while the outbox grows. On its own loop (and core) it keeps its pace.
 * `wake()` crosses threads as one message per tick, however many requests enqueued mail in it.
 */
export class MailThread implements MailDelivery {
  readonly #config: Config;
  readonly #log: FastifyBaseLogger;
  readonly #metrics: Metrics | undefined;
  #worker: Worker | undefined;
  /**
   * The current thread's start gate, shared memory both sides change atomically: 0 while it loads,
   * 1 once it starts claiming rows (set by the thread), 2 when a stop came first (set here). A thread
   * stopped while still loading has opened nothing and claimed nothing, so it is terminated at once
   * instead of being waited for: loading the thread's modules is most of its start.
   */
  #gate = newGate();
  #exited: Promise<void> = Promise.resolve();
  #running = false;
  #wakeQueued = false;
  #restartMs = RESTART_MS;
  #markReady: () => void = () => {};
  /** See MailDelivery.ready: the first thread's `ready` message, or its exit (nothing more will come). */
  readonly #ready = new Promise<void>((resolve) => (this.#markReady = resolve));

  constructor(deps: { config: Config; log: FastifyBaseLogger; metrics?: Metrics | undefined }) {
    this.#config = deps.config;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  wake(): void {
    if (this.#wakeQueued || !this.#worker) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.#worker?.postMessage('wake');
    });
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const worker = this.#worker;
    if (!worker) return;
    if (Atomics.compareExchange(this.#gate, 0, GATE_LOADING, GATE_STOPPED) === GATE_LOADING) {
      await worker.terminate();
      return;
    }
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_WAIT_MS)));
    if ((await Promise.race([this.#exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  #spawn(): void {
    this.#gate = newGate();
    const worker = newThread({ config: { ...this.#config }, gate: this.#gate });
    let failure: Error | undefined;
    worker.on('message', (m: { log?: string; ready?: boolean; mail?: Partial<Record<MailOutcome, number>> }) => {
      if (typeof m.log === 'string') this.#relay(m.log);
      // The thread's send outcomes (thread-main.ts), added to this process's counters.
      if (m.mail && this.#metrics) for (const outcome of MAIL_OUTCOMES) this.#metrics.mail(outcome, m.mail[outcome] ?? 0);
      // The thread opened its database: whatever ends it later is a new failure, not a repeat.
      if (m.ready === true) {
        this.#restartMs = RESTART_MS;
        this.#markReady();
      }
    });
    // Logged once, with the exit below: the error (an exception, a failed start, memory) and its restart.
    worker.on('error', (err) => (failure = err));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.#worker = undefined;
        resolve();
        this.#markReady();
        if (!this.#running) return;
        // Rows stay in the outbox; a fresh thread picks them up. Back-off: a thread that cannot start
        // (database down) must not spin.
        const delay = this.#restartMs;
        this.#restartMs = Math.min(delay * 2, MAX_RESTART_MS);
        const err = failure ? describeDbError(failure) : undefined;
        this.#log.error({ exit_code: code, err, restart_in_ms: delay }, 'mail thread stopped unexpectedly; restarting it');
        setTimeout(() => this.#running && this.#spawn(), delay).unref();
      }),
    );
    this.#worker = worker;
  }

  #relay(line: string): void {
    try {
      const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = JSON.parse(line) as Record<string, unknown>;
      this.#log[LEVELS[Number(level)] ?? 'info'](fields, String(msg ?? ''));
    } catch {
      this.#log.warn('mail thread: unreadable log line');
    }
  }
}

/**
 * The delivery for a server: a mail thread when the database can be opened a second time (a file or
 * PostgreSQL) and time is real; in-process otherwise (`sqlite::memory:` is private to its connection,
 * and an injected clock cannot cross threads).
 */
export function createMailDelivery(deps: { store: Store; config: Config; log: FastifyBaseLogger; now?: (() => number) | undefined; metrics?: Metrics | undefined }): MailDelivery {
  const shareable = deps.config.databaseUrl !== 'sqlite::memory:';
  const realTime = deps.now === undefined || deps.now === Date.now;
  return shareable && realTime ? new MailThread(deps) : new MailWorker(deps);
}
