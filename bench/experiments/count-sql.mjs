// DIAGNOSTIC: `node bench/run.mjs --runs 1 --only a --preload bench/experiments/count-sql.mjs`
// Counts the SQL statements the server prepares (Kysely prepares every statement it runs, so this is
// the number of statements executed), by SQL text, and writes them to .bench/sql-counts-<pid>.json
// when the server exits (one file per thread: t0 = main thread, t1… = the mail thread).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const prepare = Database.prototype.prepare;
const counts = new Map();
Database.prototype.prepare = function countingPrepare(sql) {
  counts.set(sql, (counts.get(sql) ?? 0) + 1);
  return prepare.call(this, sql);
};
process.on('exit', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.bench');
  mkdirSync(dir, { recursive: true });
  const sorted = [...counts].sort((a, b) => b[1] - a[1]).map(([sql, n]) => ({ n, sql }));
  writeFileSync(join(dir, `sql-counts-${process.pid}-t${threadId}.json`), JSON.stringify(sorted, null, 2));
});
