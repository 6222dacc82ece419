import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from '../config/schema.ts';
import { metricsEnabled } from '../metrics/http.ts';
import { type MailOutcome, observeStore } from '../metrics/observe-store.ts';
import { idleErrorLogger } from '../store/db-errors.ts';
import { openStore } from '../store/index.ts';
import { GATE_LOADING, GATE_STARTED } from './thread-gate.ts';
import { MailWorker } from './worker.ts';

/**
 * Entry point of the mail thread (see thread.ts): its own store connection, its own MailWorker, its
 * own event loop. Log lines travel to the parent, which writes them with the application's logger.
 */
const port = parentPort;
if (!port) throw new Error('thread-main.ts runs as a worker thread only');
const { config, gate } = workerData as { config: Config; gate: Int32Array };

const lines = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    port.postMessage({ log: chunk.toString('utf8') });
    callback();
  },
});

/**
 * Send outcomes for the parent's metrics (thread.ts): summed and posted once per turn of this
 * thread's loop, however many rows a batch marked. A thread that dies loses at most one turn's counts.
 */
let pending: Partial<Record<MailOutcome, number>> | undefined;
const countMail = (outcome: MailOutcome, n: number): void => {
  if (!pending) {
    pending = {};
    setImmediate(() => {
      port.postMessage({ mail: pending });
      pending = undefined;
    });
  }
  pending[outcome] = (pending[outcome] ?? 0) + n;
};

const log = pino({ level: config.logLevel }, lines);
// Fewer connections than the request pool's ten (each is a PostgreSQL backend, per instance), but
// not too few: under `bench/run.mjs --db postgres --only c` (1,000 starts/s), 3 doubled the delay
// from a start's answer to its mail (p50 374 → 809 ms against 10), 6 did not (258 ms), with the
// drain rate unchanged (1,085 / 1,137 / 1,347 mails/s).
const MAIL_CONNECTIONS = 6;
const opened = await openStore(config.databaseUrl, { onBackgroundError: idleErrorLogger(log), queryConnections: MAIL_CONNECTIONS, applicationName: 'sesame mail' });
const store = metricsEnabled(config) ? observeStore(opened.store, { logs() {}, mail: countMail }) : opened.store;
const worker = new MailWorker({ store, config, log });

// The parent terminates a thread it stops before this point (thread.ts, the start gate); past it,
// the parent's stop waits for the worker to finish the batch it holds.
if (Atomics.compareExchange(gate, 0, GATE_LOADING, GATE_STARTED) !== GATE_LOADING) {
  await store.close();
  port.close();
} else {
  port.on('message', (m: unknown) => {
    if (m === 'wake') worker.wake();
    else if (m === 'stop') {
      void (async () => {
        await worker.stop();
        await store.close();
        port.close();
      })();
    }
  });
  worker.start();
  // After the transport's start-up line (development mode), which travels to the parent first: the
  // parent reads `ready` as "the thread's start is logged" (MailDelivery.ready).
  await worker.ready();
  port.postMessage({ ready: true });
}

