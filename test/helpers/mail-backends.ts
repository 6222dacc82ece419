import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { backendMatrix, freshDatabase } from './backends.ts';

/** A fresh, migrated store, plus what a restart test needs: reopening it and reading raw rows. */
export interface Db {
  /** SESAME_DATABASE_URL of this database, for code that opens it itself (the mail thread). */
  url: string;
  store: Store;
  /** Another store on the same database (a restarted or second instance). */
  reopen(): Promise<Store>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why the suite is skipped on this backend, if it is. */
  skip: string | false;
  /** `durable`: a database that outlives its store (SQLite file rather than memory). */
  open(durable: boolean): Promise<Db>;
}

const sqlite: Backend = {
  name: 'sqlite',
  skip: false,
  async open(durable) {
    const dir = durable ? mkdtempSync(join(tmpdir(), 'sesame-mail-')) : undefined;
    const url = dir ? `sqlite:${join(dir, 'sesame.db')}` : 'sqlite::memory:';
    const stores = [(await openStore(url)).store];
    return {
      url,
      store: stores[0]!,
      async reopen() {
        if (!dir) throw new Error('an in-memory database cannot be reopened');
        stores.push((await openStore(url)).store);
        return stores.at(-1)!;
      },
      async query(sql) {
        if (!dir) throw new Error('an in-memory database cannot be read from outside');
        const raw = new Database(join(dir, 'sesame.db'), { readonly: true });
        try {
          return raw.prepare(sql).all() as Record<string, unknown>[];
        } finally {
          raw.close();
        }
      },
      async dispose() {
        for (const s of stores) await s.close().catch(() => {});
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const pgSkip = (await backendMatrix()).find((b) => b.backend === 'postgres')?.skip ?? 'PostgreSQL not in SESAME_TEST_BACKENDS';

/** Each test gets its own database (test/helpers/backends.ts), dropped afterwards. */
const postgres: Backend = {
  name: 'postgres',
  // backendMatrix() fails in CI when PostgreSQL is down, and skips loudly elsewhere.
  skip: pgSkip,
  async open() {
    const db = await freshDatabase('postgres');
    const url = new URL(db.url);
    const stores = [(await openStore(url.href)).store];
    return {
      url: url.href,
      store: stores[0]!,
      async reopen() {
        stores.push((await openStore(url.href)).store);
        return stores.at(-1)!;
      },
      async query(sql) {
        const c = new pg.Client({ connectionString: url.href });
        await c.connect();
        try {
          return (await c.query(sql)).rows as Record<string, unknown>[];
        } finally {
          await c.end();
        }
      },
      async dispose() {
        for (const s of stores) await s.close().catch(() => {});
        await db.drop();
      },
    };
  },
};

export const BACKENDS: readonly Backend[] = [sqlite, postgres];
