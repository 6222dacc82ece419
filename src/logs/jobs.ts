import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { startRetention } from './retention.ts';
import { LogStreamWorker } from './stream-worker.ts';

/**
 * Starts the log retention job and the log stream delivery worker from listen(); the HTTP server's
 * close event stops them (as startPurge: hooks cannot be added once listening).
 */
export function startLogJobs(app: FastifyInstance, s: Services): void {
  const stopRetention = startRetention({
    store: s.store,
    retentionDays: s.config.logRetentionDays,
    now: () => s.now(),
    onError: (err) => s.log.warn({ err }, 'could not prune old logs'),
  });
  const streams = new LogStreamWorker({ store: s.store, keyring: s.keyring, log: s.log });
  streams.start();
  app.server.once('close', () => {
    stopRetention();
    void streams.stop();
  });
}
