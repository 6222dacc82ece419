/**
 * Cache of reference data (settings, clients, connections, connection enablement), read on every
 * request and changed rarely. Correct across processes: every write to those tables bumps the
 * `ref_version` row in the same transaction, and a reader compares the version before using the
 * cache. The version is read at most once per event-loop turn (the promise is shared until
 * setImmediate), so a request that arrives after a write's response — in this process or another
 * instance — always reads a version at least as new as that write: per request one tiny SELECT
 * instead of five.
 *
 * Entries hold raw rows; the store parses each row once and hands out deep-frozen objects, so callers
 * can never mutate what is cached (refs-store.ts).
 */
/** Unknown client ids are cached too (as absent): bound what a caller inventing ids can fill. */
const MAX_ENTRIES = 10_000;

export class RefCache {
  readonly #readVersion: () => Promise<number>;
  #version: number | undefined;
  #check: Promise<number> | undefined;
  #entries = new Map<string, Promise<unknown>>();

  constructor(readVersion: () => Promise<number>) {
    this.#readVersion = readVersion;
  }

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const v = await this.#current();
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
      const check = this.#readVersion();
      this.#check = check;
      setImmediate(() => {
        if (this.#check === check) this.#check = undefined;
      });
    }
    return this.#check;
  }
}
