import type { Store } from '../store/types.ts';

/** Rows per DELETE: each batch is one short write, so sign-ins interleave with a large prune. */
export const PRUNE_BATCH = 1000;
const DAY_MS = 86_400_000;

/**
 * Deletes every log dated before `cutoffMs`, in bounded batches, yielding to the event loop between
 * them so that requests are served while a large backlog is pruned. Returns how many were deleted.
 */
export async function pruneLogsBefore(store: Store, cutoffMs: number, batch = PRUNE_BATCH, signal?: AbortSignal): Promise<number> {
  const before = new Date(cutoffMs).toISOString();
  let total = 0;
  for (;;) {
    const n = await store.pruneLogs(before, batch);
    total += n;
    if (n < batch || signal?.aborted) return total;
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** `30d`, `12h`, `90m`, `3600s` → milliseconds; undefined when malformed. */
export function parseAge(text: string): number | undefined {
  const m = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export interface RetentionDeps {
  store: Store;
  retentionDays: number;
  now(): number;
  onError(err: unknown): void;
}

export const RETENTION_EVERY_MS = 3_600_000;

/**
 * The retention job (SESAME_LOG_RETENTION_DAYS; 0 = keep forever): prunes once at start, then every
 * hour. Runs never overlap. Returns a stop function that settles once the batch in flight has.
 */
export function startRetention(d: RetentionDeps): () => Promise<void> {
  if (d.retentionDays === 0) return async () => {};
  let running: Promise<void> | undefined;
  const stop = new AbortController();
  const run = () => {
    if (running || stop.signal.aborted) return;
    running = pruneLogsBefore(d.store, d.now() - d.retentionDays * DAY_MS, PRUNE_BATCH, stop.signal)
      .then(() => {}, d.onError)
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, RETENTION_EVERY_MS);
  timer.unref();
  return async () => {
    stop.abort();
    clearInterval(timer);
    await running;
  };
}
