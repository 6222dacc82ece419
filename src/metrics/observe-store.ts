import type { LogEvent } from '../core/model.ts';
import type { Store } from '../store/types.ts';

/** What became of an outbox message at one attempt (the mail worker's store calls). */
export type MailOutcome = 'sent' | 'retry' | 'failed';
export const MAIL_OUTCOMES: readonly MailOutcome[] = ['sent', 'retry', 'failed'];

/** Where the observed store reports: log events it committed, outbox outcomes it recorded. */
export interface StoreObserver {
  logs(logs: readonly LogEvent[]): void;
  mail(outcome: MailOutcome, n: number): void;
}

/**
 * The store, seen by the metrics (issue 13 §4): every log Sesame writes passes through a handful of
 * store methods, so counting there, after the write resolved, counts what was committed (a start
 * that failed with a 503 issued nothing) and covers every caller, present and future, without a
 * counter call beside each `makeLog`. A log a method appends only conditionally is counted under the
 * same condition the store documents. Other methods pass through untouched (bound once, cached).
 * Used only when metrics are on: with them off the store is not wrapped at all.
 */
export function observeStore(store: Store, o: StoreObserver): Store {
  const overrides: Partial<Store> = {
    async appendLogs(logs) {
      await store.appendLogs(logs);
      o.logs(logs);
    },
    async issueCode(code, message, logs) {
      await store.issueCode(code, message, logs);
      o.logs(logs);
    },
    async recordLoginFailure(key, now, policy, blockLog) {
      const out = await store.recordLoginFailure(key, now, policy, blockLog);
      if (blockLog && out.newlyBlocked) o.logs([blockLog]);
      return out;
    },
    async recordIdentifierFailure(key, now, policy, tripLog) {
      const out = await store.recordIdentifierFailure(key, now, policy, tripLog);
      // The store appends tripLog for the one failure that reaches the threshold.
      if (tripLog && out.failures === policy.threshold) o.logs([tripLog]);
      return out;
    },
    async markStartsCapped(key, until, now, tripLog) {
      const marked = await store.markStartsCapped(key, until, now, tripLog);
      if (tripLog && marked) o.logs([tripLog]);
      return marked;
    },
    async markSent(id) {
      await store.markSent(id);
      o.mail('sent', 1);
    },
    async markSentMany(ids, keepPayload) {
      await store.markSentMany(ids, keepPayload);
      o.mail('sent', ids.length);
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      await store.markRetry(id, attempts, nextAttemptAt, error);
      o.mail('retry', 1);
    },
    async markFailed(id, attempts, error, log) {
      await store.markFailed(id, attempts, error, log);
      o.mail('failed', 1);
    },
  };
  const bound = new Map<PropertyKey, unknown>(Object.entries(overrides));
  return new Proxy(store, {
    get(target, prop) {
      let v = bound.get(prop);
      if (v !== undefined) return v;
      v = Reflect.get(target, prop, target);
      // Methods run on the real store: its #private fields are not reachable through the proxy.
      if (typeof v === 'function') {
        v = v.bind(target);
        bound.set(prop, v);
      }
      return v;
    },
  });
}
