/**
 * The mail thread's start gate (thread.ts, thread-main.ts): one Int32 in shared memory that both
 * sides change with Atomics.compareExchange, so exactly one of "the thread starts claiming rows" and
 * "the parent stopped it first" happens.
 */
export const GATE_LOADING = 0;
export const GATE_STARTED = 1;
export const GATE_STOPPED = 2;

export function newGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
