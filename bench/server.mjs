// Benchmark server: the compiled product (dist/, built by `npm run build`) in its own process, so its
// RSS and CPU are measured apart from the load generator. Configured only through SESAME_* variables,
// exactly like `sesame start`. Started by bench/run.mjs with child_process.fork.
//
// IPC protocol:
//   → parent {type:'ready', baseUrl, issuer, defaultApp:{client_id, client_secret}, pid}
//   → parent {type:'fatal', error}                       start-up failed (then exit 1)
//   ← parent {cmd:'stats', reset?}  → {type:'stats', rssPeak, rssPeakWindow, rssNow, heapUsed, heapPeakWindow, external, cpu, elu, eldP99, eldMax, outbox}
//            rssPeak: max RSS since start (sampled every 100 ms); rssPeakWindow: since the last reset
//   ← parent {cmd:'profile-start', intervalUs?} → {type:'profile-started'}
//   ← parent {cmd:'profile-stop', file}         → {type:'profile-stopped', file}
// SIGTERM/SIGINT: the product's own graceful shutdown (drain requests, stop the mail worker, close DB).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config/load.js';
import { installSignalHandlers, listen } from '../dist/server.js';

const send = (msg) => new Promise((resolve) => process.send(msg, resolve));

let rssPeak = 0;
let rssPeakWindow = 0;
let heapPeakWindow = 0;
const sample = () => {
  const m = process.memoryUsage();
  if (m.rss > rssPeak) rssPeak = m.rss;
  if (m.rss > rssPeakWindow) rssPeakWindow = m.rss;
  if (m.heapUsed > heapPeakWindow) heapPeakWindow = m.heapUsed;
};
sample();
setInterval(sample, 100).unref();

let built;
try {
  const config = loadConfig(process.env);
  built = await buildApp(config);
  if (!built.report.defaultApp) throw new Error('the database was not new: no Default App credentials (use a fresh SESAME_DATABASE_URL)');
  // Diagnostic (BENCH_TRACE=1): server-side time of the first 300 requests, arrival → response sent.
  if (process.env.BENCH_TRACE === '1') {
    const t0 = performance.now();
    const trace = [];
    built.app.addHook('onRequest', async (req) => {
      req.benchT = performance.now();
    });
    built.app.addHook('onResponse', async (req) => {
      if (trace.length < 300) trace.push([Math.round(req.benchT - t0), Math.round((performance.now() - req.benchT) * 10) / 10]);
    });
    process.on('message', (m) => m?.cmd === 'trace' && process.send({ type: 'trace', trace }));
  }
  const baseUrl = await listen(built.app, built.services);
  installSignalHandlers(built.app);
  await send({ type: 'ready', baseUrl, issuer: built.services.issuer, defaultApp: built.report.defaultApp, pid: process.pid });
} catch (err) {
  await send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}

let session;
let eluMark = performance.eventLoopUtilization();
// Event-loop delay (ms): how long a ready callback (a request, an SMTP reply) may wait for the loop.
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

process.on('message', async (msg) => {
  try {
    if (msg?.cmd === 'stats') {
      sample();
      const elu = performance.eventLoopUtilization(eluMark);
      const out = {
        type: 'stats',
        rssPeak,
        rssPeakWindow,
        rssNow: process.memoryUsage.rss(),
        heapUsed: process.memoryUsage().heapUsed,
        heapPeakWindow,
        external: process.memoryUsage().external,
        cpu: process.cpuUsage(),
        elu: elu.utilization,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6,
        outbox: await built.services.store.countOutbox('pending'),
      };
      if (msg.reset) {
        rssPeakWindow = 0;
        heapPeakWindow = 0;
        eluMark = performance.eventLoopUtilization();
        eld.reset();
        sample();
      }
      await send(out);
    } else if (msg?.cmd === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: msg.intervalUs ?? 500 });
      await session.post('Profiler.start');
      await send({ type: 'profile-started' });
    } else if (msg?.cmd === 'profile-stop') {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = undefined;
      writeFileSync(msg.file, JSON.stringify(profile));
      await send({ type: 'profile-stopped', file: msg.file });
    }
  } catch (err) {
    await send({ type: 'error', error: err instanceof Error ? err.message : String(err) });
  }
});

// The bench process died: shut down the same way as on SIGTERM.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
