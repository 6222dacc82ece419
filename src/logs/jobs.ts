import type { Services } from '../services.ts';
import { startRetention } from './retention.ts';
import { LogStreamWorker } from './stream-worker.ts';

/**
 * Starts the log retention job and the log stream delivery worker from listen(); shutdown stops them
 * and waits for their work in flight before the store closes (src/background.ts).
 */
export function startLogJobs(s: Services): void {
  const stopRetention = startRetention({
    store: s.store,
    retentionDays: s.config.logRetentionDays,
    now: () => s.now(),
    onError: (err) => s.log.warn({ err }, 'could not prune old logs'),
  });
  const streams = new LogStreamWorker({ store: s.store, keyring: s.keyring, log: s.log });
  streams.start();
  s.background.add(stopRetention);
  s.background.add(() => streams.stop());
}
