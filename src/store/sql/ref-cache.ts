/**
 * Cache of reference data (settings, clients, connections, connection enablement), read on every
 * request and changed rarely. Correct across processes: every write to those tables bumps the
 * `ref_version` row in the same transaction, and a reader compares the version before using the
 * cache. Two ways to learn the version:
 * - polled (SQLite, and PostgreSQL while its listener is down): read at most once per event-loop
 *   turn (the promise is shared until setImmediate), so a request that arrives after a write's
 *   response — in this process or another instance — always reads a version at least as new as that
 *   write: per request one tiny SELECT instead of five.
 * - pushed (PostgreSQL, pg-listen.ts): every bump also NOTIFYs its new version at COMMIT, and each
 *   instance's listener hands it to `notified()`. No query per request; another instance's change is
 *   in force here as soon as the notification arrives (milliseconds: README "Sizing"), and at the
 *   latest after MAX_STALE_MS, when the version row is read again anyway — the fallback if a
 *   notification were ever lost. This process's own writes are seen at once (`invalidate`).
 *
 * Entries hold raw rows; the store parses each row once and hands out deep-frozen objects, so callers
 * can never mutate what is cached (refs-store.ts).
 */
/** Unknown client ids are cached too (as absent): bound what a caller inventing ids can fill. */
const MAX_ENTRIES = 10_000;
/** Pushed mode: the version row is still read when the last read is older than this. */
export const MAX_STALE_MS = 1_000;

export class RefCache {
  readonly #readVersion: () => Promise<number>;
  #version: number | undefined;
  #check: Promise<number> | undefined;
  #entries = new Map<string, Promise<unknown>>();
  #pushed = false;
  /** When the last version read that began while listening began (0: none yet). */
  #readAt = 0;
  /** Bumped on every (re)start of listening: a read that began before it may have missed a notification. */
  #listenSeq = 0;

  constructor(readVersion: () => Promise<number>) {
    this.#readVersion = readVersion;
  }

  /** The listener is up (true) or down (false: back to one version read per turn). */
  setPushed(on: boolean): void {
    this.#pushed = on;
    this.#readAt = 0;
    this.#listenSeq++;
  }

  /** A version notified by a committed write (this instance's or another's). */
  notified(v: number): void {
    if (this.#version !== undefined && v > this.#version) {
      this.#entries.clear();
      this.#version = v;
    }
  }

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const fresh = this.#pushed && this.#version !== undefined && Date.now() - this.#readAt < MAX_STALE_MS;
    const v = fresh ? this.#version! : await this.#current();
    if (this.#version === undefined || v > this.#version) {
      this.#entries.clear();
      this.#version = v;
    } else if (v < this.#version) {
      // A version read that started before a newer one finished: don't cache what it would load.
      return load();
    }
    let entry = this.#entries.get(key) as Promise<T> | undefined;
    if (!entry) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      const loading = load();
      entry = loading;
      this.#entries.set(key, loading);
      loading.catch(() => {
        if (this.#entries.get(key) === loading) this.#entries.delete(key);
      });
    }
    return entry;
  }

  /** After a write through this store: forget everything, including a version read still in flight. */
  invalidate(): void {
    this.#entries.clear();
    this.#version = undefined;
    this.#check = undefined;
  }

  #current(): Promise<number> {
    if (!this.#check) {
      const at = Date.now();
      const seq = this.#listenSeq;
      const check = this.#readVersion();
      check.then(() => {
        if (seq === this.#listenSeq) this.#readAt = Math.max(this.#readAt, at);
      }, () => {});
      this.#check = check;
      setImmediate(() => {
        if (this.#check === check) this.#check = undefined;
      });
    }
    return this.#check;
  }
}
