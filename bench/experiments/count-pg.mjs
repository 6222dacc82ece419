// DIAGNOSTIC: `node bench/run.mjs --db postgres --runs 1 --only a --preload bench/experiments/count-pg.mjs`
// The PostgreSQL twin of count-sql.mjs: counts the statements the server sends to PostgreSQL (every
// pg Client.query call is one round trip), by SQL text, and writes them to
// .bench/pg-counts-<pid>-t<thread>.json when the server exits. Divide by the requests served.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const pg = require('pg');
const query = pg.Client.prototype.query;
const counts = new Map();
pg.Client.prototype.query = function countingQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  if (text) counts.set(text, (counts.get(text) ?? 0) + 1);
  return query.call(this, config, ...rest);
};
process.on('exit', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.bench');
  mkdirSync(dir, { recursive: true });
  const sorted = [...counts].sort((a, b) => b[1] - a[1]).map(([sql, n]) => ({ n, sql }));
  writeFileSync(join(dir, `pg-counts-${process.pid}-t${threadId}.json`), JSON.stringify(sorted, null, 2));
});
