// EXPERIMENT (not the product): `node bench/run.mjs --preload bench/experiments/stmt-cache.mjs`
// Caches better-sqlite3 prepared statements by SQL text for the server process, i.e. what a statement
// cache in front of Kysely's SqliteDriver (which calls db.prepare(sql) for every query) would give.
// Kysely compiles the same SQL text for the same query shape, so the cache hits on every hot query.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const prepare = Database.prototype.prepare;
const caches = new WeakMap();
Database.prototype.prepare = function cachedPrepare(sql) {
  let cache = caches.get(this);
  if (!cache) caches.set(this, (cache = new Map()));
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = prepare.call(this, sql);
    if (cache.size < 1000) cache.set(sql, stmt);
  }
  return stmt;
};
