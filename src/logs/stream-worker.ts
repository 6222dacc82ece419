import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Keyring } from '../core/crypto.ts';
import { logIdFloor } from '../core/logs.ts';
import type { Store } from '../store/types.ts';
import { OutageLog } from '../store/db-errors.ts';
import { deliver, streamContext } from './stream-delivery.ts';

export interface StreamWorkerOptions {
  store: Store;
  keyring: Keyring;
  log: FastifyBaseLogger;
  /** How often active streams are checked for new logs. */
  pollMs?: number;
  /** Logs per request (JSONARRAY, JSONLINES). */
  batchSize?: number;
  /** A stream's delivery lease; another instance takes over this long after one dies. */
  leaseMs?: number;
  /** Per-request timeout; well under the lease, so a lease never expires during a request. */
  timeoutMs?: number;
}

/** Retry delays: 1 s, 2 s, 4 s … capped at 30 s, so a receiver that is back is caught up within a minute. */
export const MAX_BACKOFF_MS = 30_000;
/**
 * Logs younger than this are not delivered yet (issue 13 §2). A log_id carries the time its request
 * stamped it, not the time it was committed: a transaction still open on this or another instance
 * may commit an older log_id after newer ones are visible, and the checkpoint, once past it, would
 * skip it for good. Every write commits well within this (and instance clocks agree to better).
 */
export const SETTLE_MS = 3000;

export const backoffMs = (failures: number) => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));

/**
 * Delivers every active log stream, at least once and in log_id order: a batch is read after the
 * stream's durable checkpoint, POSTed, and only after a 2xx does the checkpoint move past it (a
 * crash in between re-sends that batch). A failure retries the same batch after the backoff. Each
 * stream is delivered under a lease in the store, so several instances never interleave a stream.
 */
export class LogStreamWorker {
  readonly #o: Required<StreamWorkerOptions>;
  /** This instance's lease owner id. */
  readonly #owner = randomUUID();
  readonly #failures = new Map<string, { count: number; nextAt: number }>();
  readonly #held = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #stopped = true;
  /** Aborts the request in flight on stop(), so shutdown never waits for a slow receiver. */
  #abort = new AbortController();
  /** A store that fails every poll (an outage) is logged when it starts and when it ends, not every second. */
  readonly #outage: OutageLog;

  constructor(o: StreamWorkerOptions) {
    this.#o = { pollMs: 1000, batchSize: 100, leaseMs: 60_000, timeoutMs: 10_000, ...o };
    this.#outage = new OutageLog(o.log, 'log stream worker');
  }

  start(): void {
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#schedule(0);
  }

  /** Stops polling, waits for the batch in flight, and hands the leases back for other instances. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#tick;
    for (const id of this.#held) await this.#o.store.releaseLogStream(id, this.#owner).catch(() => {});
    this.#held.clear();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#runOnce()
        .then(
          () => this.#outage.ok(),
          (err: unknown) => {
            if (!this.#stopped) this.#outage.failed(err);
          },
        )
        .finally(() => this.#schedule(this.#o.pollMs));
    }, ms);
    this.#timer.unref();
  }

  async #runOnce(): Promise<void> {
    const streams = await this.#o.store.listLogStreams();
    const ids = new Set(streams.map((s) => s.id));
    for (const id of this.#failures.keys()) if (!ids.has(id)) this.#failures.delete(id);
    for (const s of streams) {
      if (this.#stopped) return;
      if (s.doc.status !== 'active') continue;
      const f = this.#failures.get(s.id);
      if (f && f.nextAt > Date.now()) continue;
      await this.#deliverStream(s.id);
    }
  }

  /** Sends batches until the stream is caught up, fails, stops being active, or the lease is lost. */
  async #deliverStream(id: string): Promise<void> {
    const { store, leaseMs } = this.#o;
    while (!this.#stopped) {
      // Claimed (or renewed) before every batch, which also re-reads the configuration: a PATCH
      // (new endpoint, secret, paused) applies from the next batch on.
      const stream = await store.claimLogStream(id, this.#owner, Date.now(), leaseMs);
      if (!stream) {
        this.#held.delete(id);
        return; // deleted, or another instance holds the lease
      }
      this.#held.add(id);
      if (stream.doc.status !== 'active') return;
      const take = stream.doc.sink.httpContentFormat === 'JSONOBJECT' ? 1 : this.#o.batchSize;
      const logs = await store.logsAfter(stream.checkpoint, take, logIdFloor(Date.now() - SETTLE_MS));
      if (logs.length === 0) return;
      try {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.timeoutMs)]);
        await deliver(stream.doc.sink, stream.doc.signing_secret_enc === undefined ? undefined : this.#o.keyring.open(streamContext(stream.id), stream.doc.signing_secret_enc), logs, signal);
      } catch (err) {
        if (this.#stopped) return;
        const count = (this.#failures.get(id)?.count ?? 0) + 1;
        const delay = backoffMs(count);
        this.#failures.set(id, { count, nextAt: Date.now() + delay });
        // The endpoint is logged, never the Authorization value or the secret.
        this.#o.log.warn({ stream: id, endpoint: stream.doc.sink.httpEndpoint, failures: count, retryInMs: delay, error: (err as Error).message }, 'log stream delivery failed');
        return;
      }
      this.#failures.delete(id);
      if (!(await store.advanceLogStream(id, this.#owner, logs.at(-1)!.log_id, Date.now(), leaseMs))) {
        this.#held.delete(id);
        return;
      }
    }
  }
}
