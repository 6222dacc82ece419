// DIAGNOSTIC: `node bench/run.mjs --runs 1 --only a --preload bench/experiments/mail-timing.mjs`
// Times every nodemailer sendMail() of the server (call → SMTP server accepted it) and samples the
// event-loop iteration rate, then writes .bench/mail-timing-<pid>-t<thread>.json on exit (the thread
// that sends mail has the samples): shows how long one
// message takes end to end inside the server while HTTP load keeps the event loop busy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const Mail = require('nodemailer/lib/mailer');
const sendMail = Mail.prototype.sendMail;
const samples = [];
let inFlight = 0;
let maxInFlight = 0;
Mail.prototype.sendMail = function timedSendMail(data, callback) {
  const t = performance.now();
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const p = sendMail.call(this, data, callback);
  const done = () => {
    inFlight--;
    samples.push([Math.round(t), Math.round((performance.now() - t) * 10) / 10]);
  };
  if (p && typeof p.then === 'function') p.then(done, done);
  return p;
};
// Event-loop iterations per second (setImmediate ping-pong counts one per iteration).
const iters = [];
let n = 0;
const tick = () => {
  n++;
  setImmediate(tick).unref?.();
};
setImmediate(tick);
setInterval(() => {
  iters.push(n);
  n = 0;
}, 1000).unref();
process.on('exit', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.bench');
  mkdirSync(dir, { recursive: true });
  const d = samples.map((s) => s[1]).sort((a, b) => a - b);
  const q = (p) => d[Math.min(d.length - 1, Math.floor((p / 100) * d.length))];
  writeFileSync(join(dir, `mail-timing-${process.pid}-t${threadId}.json`), JSON.stringify({ sends: d.length, maxInFlight, p50: q(50), p90: q(90), p99: q(99), max: d.at(-1), loopIterationsPerSecond: iters, samples }, null, 1));
});
