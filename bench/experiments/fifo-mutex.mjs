// EXPERIMENT (not the product): `node bench/run.mjs --preload bench/experiments/fifo-mutex.mjs`
// Kysely's SqliteDriver guards its single connection with a mutex that wakes every waiter on each
// unlock (`while (this.#promise) await this.#promise`): a thundering herd, and no FIFO order, so under
// 50 concurrent requests some requests lose the race again and again. This puts a FIFO queue in front
// of acquireConnection so at most one caller ever contends for Kysely's mutex.
// Result here (Nov 2026): no measurable change in req/s or p99 — the long first-request latencies seen
// at the start of each autocannon run come from accept() (one new connection per loop iteration), not
// from this mutex.
import { SqliteDriver } from 'kysely';

const queues = new WeakMap();
const acquire = SqliteDriver.prototype.acquireConnection;
const release = SqliteDriver.prototype.releaseConnection;
SqliteDriver.prototype.acquireConnection = async function fifoAcquire() {
  let q = queues.get(this);
  if (!q) queues.set(this, (q = { busy: false, waiters: [] }));
  if (q.busy) await new Promise((resolve) => q.waiters.push(resolve));
  q.busy = true;
  return acquire.call(this);
};
SqliteDriver.prototype.releaseConnection = async function fifoRelease(connection) {
  await release.call(this, connection);
  const q = queues.get(this);
  const next = q.waiters.shift();
  if (next) next(); // hand over directly: stays busy
  else q.busy = false;
};
