// Sesame benchmark (`npm run bench` = `npm run build && node bench/run.mjs`).
//
//   node bench/run.mjs [--runs N] [--duration S] [--warmup S] [--only a,b,c] [--profile] [--keep] [--db-dir DIR]
//                      [--db sqlite|postgres] [--pg-url URL]
//                      [--server-env K=V]... [--preload FILE]... [--priority N] [--json FILE]
//     results: printed table + .bench/results-<time>.json (raw figures of every run)
//     --profile  one run; V8 CPU profiles of the server's main thread during a, b and c(i), plus whole-run
//                profiles of its worker threads (the mail thread) → .bench/profiles/, summarised at the end
//     --db-dir   where the temporary SQLite file goes (default: the OS temp dir, a disk here; /dev/shm = tmpfs)
//     --db postgres  run every scenario on PostgreSQL instead: each run creates a fresh database
//                (sesame_bench_<random>) through --pg-url (default postgres://postgres@127.0.0.1:5432/postgres)
//                and drops it after. PostgreSQL's own CPU (its backend processes serving the bench
//                database, from /proc/<pid>/stat: bench/pg-cpu.mjs) is printed apart from Sesame's,
//                per start and per exchange. `npm run bench -- --db postgres`.
//     --server-env SESAME_X=v   experiment: extra/overriding server setting (repeatable), printed in the header;
//                               also MALLOC_ARENA_MAX, UV_THREADPOOL_SIZE, NODE_OPTIONS
//     --preload FILE            experiment: `node --import FILE` for the server child (e.g. bench/experiments/*.mjs)
//     --priority N              os.setPriority(N) for the bench, server and sink processes, and with --db postgres
//                               the bench database's backends (e.g. -10 on a shared machine; needs root for
//                               negative values)
//   BENCH_QUICK=1 node bench/run.mjs          # one run (same as --runs 1)
//   BENCH_QUIET_WAIT_S=3 node bench/run.mjs  # wait at most 3 s (not 90) for a quiet machine before each run
//
// Processes (2-core machine, everything on 127.0.0.1):
//   - this process: autocannon (the load generator), the RS256 sign-rate probe, bookkeeping;
//   - bench/server.mjs: the compiled server (dist/), forked, configured by SESAME_* variables only;
//   - bench/sink.mjs: the SMTP sink, forked, so its CPU stays off the load generator's event loop.
// Each run uses a fresh temporary SQLite file (or PostgreSQL database), a fresh server and a fresh sink. Every scenario is
// bounded in time and stops by itself. Every response is checked; a run with errors says so.
//
// Scenarios (50 connections each):
//   a. POST /passwordless/start: one autocannon run, 2 s warm-up then `duration` s measured (same
//      connections); unique email per request.
//   b. POST /oauth/token (passwordless OTP): codes are pre-issued through /passwordless/start and read
//      from the SMTP sink, one distinct (email, code) per request; a short calibration run sizes the
//      measured run (fixed `amount`). Target derived from jose's RS256 sign rate on one core here.
//   c. mail pipeline: (i) a 5,000-start burst is enqueued while the sink holds its replies, then the
//      sink is released and the drain rate of the outbox is measured at the sink; (ii) 1,000 starts/s
//      (autocannon overallRate) for `duration` s, delay from each 200 response to the sink's receipt.
//   d. peak RSS of the server process (sampled every 100 ms inside it).
import { fork } from 'node:child_process';
import { createPrivateKey, randomBytes, randomUUID, sign as nodeSign } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createBenchDatabase } from './pg-cpu.mjs';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- options ----------------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = { runs: process.env.BENCH_QUICK === '1' ? 1 : 3, duration: 10, warmup: 2, only: 'a,b,c', db: 'sqlite', pgUrl: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', profile: false, keep: false, dbDir: undefined, json: undefined, serverEnv: {}, preload: [], priority: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a.startsWith('--runs')) o.runs = Number(val());
    else if (a.startsWith('--duration')) o.duration = Number(val());
    else if (a.startsWith('--warmup')) o.warmup = Number(val());
    else if (a.startsWith('--only')) o.only = val();
    else if (a.startsWith('--json')) o.json = val();
    else if (a.startsWith('--db-dir')) o.dbDir = val();
    else if (a.startsWith('--pg-url')) o.pgUrl = val();
    else if (a === '--db' || a.startsWith('--db=')) o.db = val();
    else if (a.startsWith('--server-env')) {
      const [k, ...v] = val().split('=');
      if (!/^(SESAME_[A-Z_]+|MALLOC_ARENA_MAX|UV_THREADPOOL_SIZE|NODE_OPTIONS)$/.test(k)) throw new Error('--server-env takes SESAME_NAME=value (or MALLOC_ARENA_MAX, UV_THREADPOOL_SIZE, NODE_OPTIONS)');
      o.serverEnv[k] = v.join('=');
    } else if (a.startsWith('--preload')) o.preload.push(val());
    else if (a.startsWith('--priority')) o.priority = Number(val());
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/run.mjs [--runs N] [--duration S] [--warmup S] [--only a,b,c] [--profile] [--keep] [--db-dir DIR] [--db sqlite|postgres] [--pg-url URL] [--server-env SESAME_X=v]... [--preload FILE]... [--priority N] [--json FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 9) throw new Error('--runs must be 1..9');
  if (!(o.duration >= 1 && o.duration <= 60)) throw new Error('--duration must be 1..60 s');
  if (o.db !== 'sqlite' && o.db !== 'postgres') throw new Error('--db must be sqlite or postgres');
  if (o.profile) o.runs = 1;
  o.scenarios = new Set(o.only.split(',').map((s) => s.trim()));
  return o;
}
const OPT = parseArgs(process.argv.slice(2));
const CONNECTIONS = 50;
const START_LIMIT = '1000000000';
const BURST = 5000;
const STEADY_RATE = 1000;

// ---- small stats helpers ----------------------------------------------------------------------------
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const f = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '—');
const mb = (b) => b / 1024 / 1024;

// ---- machine load (Linux /proc/stat): is anything else using the 2 cores? ----------------------------
function cpuTimes() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line;
    return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal, hz: 100 };
  } catch {
    return undefined;
  }
}
/** Machine-wide busy CPU between two cpuTimes() samples, in % of one core (2 cores = 200). */
const machinePct = (a, b, ncpu) => (a && b && b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 * ncpu : NaN);
const NCPU = (await import('node:os')).cpus().length;
/** Waits (bounded) until the machine is quiet: less than `maxPct`% of one core busy over a second. */
// BENCH_QUIET_WAIT_S: how long to wait at most (default 90 s); on a machine that stays busy, alternate
// before/after runs instead and compare medians.
async function waitQuiet(maxPct = 15, maxWaitMs = Number(process.env.BENCH_QUIET_WAIT_S ?? 90) * 1000) {
  const t0 = Date.now();
  let pctNow = NaN;
  for (;;) {
    const a = cpuTimes();
    await sleep(1000);
    pctNow = machinePct(a, cpuTimes(), NCPU);
    if (!(pctNow > maxPct) || Date.now() - t0 > maxWaitMs) break;
    if (Date.now() - t0 < 1500) console.log(`machine busy (${f(pctNow)}% of a core used by other processes); waiting up to ${maxWaitMs / 1000} s for it to calm down…`);
  }
  return { pct: pctNow, waitedMs: Date.now() - t0 };
}

// ---- children ---------------------------------------------------------------------------------------
function forkChild(file, { env, logFd, name, execArgv = [] }) {
  const child = fork(file, [], { env, execArgv, stdio: ['ignore', logFd ?? 'inherit', logFd ?? 'inherit', 'ipc'], serialization: 'json' });
  const listeners = new Set();
  let exited = null;
  const exitP = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = { code, signal }))));
  child.on('message', (m) => {
    for (const l of [...listeners]) l(m);
  });
  const waitFor = (pred, timeoutMs, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(l);
        reject(new Error(`${name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (m) => {
        if (m?.type === 'fatal') {
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`${name} failed to start:\n${m.error}`));
        } else if (pred(m)) {
          clearTimeout(timer);
          listeners.delete(l);
          resolve(m);
        }
      };
      listeners.add(l);
      exitP.then((e) => {
        if (listeners.has(l)) {
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`${name} exited (${e.code ?? e.signal}) while waiting for ${what}`));
        }
      });
    });
  const request = (msg, type, timeoutMs = 30_000) => {
    const p = waitFor((m) => m?.type === type || m?.type === 'error', timeoutMs, type).then((m) => {
      if (m.type === 'error') throw new Error(`${name}: ${m.error}`);
      return m;
    });
    child.send(msg);
    return p;
  };
  return { child, listeners, waitFor, request, exitP, get exited() { return exited; } };
}

/** The sink child plus the parent's view of what arrived: email → {t, code}. */
async function startSinkChild() {
  const c = forkChild(join(here, 'sink.mjs'), { env: process.env, name: 'sink' });
  const arrivals = new Map();
  const state = { count: 0, noCode: 0, duplicates: 0, lastT: 0 };
  c.listeners.add((m) => {
    if (m?.type !== 'mail') return;
    for (const [t, to, code] of m.items) {
      state.count++;
      state.lastT = Math.max(state.lastT, t);
      if (code === null) state.noCode++;
      if (arrivals.has(to)) state.duplicates++;
      else arrivals.set(to, { t, code });
    }
  });
  const ready = await c.waitFor((m) => m?.type === 'ready', 10_000, 'ready');
  return {
    ...c,
    port: ready.port,
    arrivals,
    state,
    /** Waits until every email has arrived; stops after `stallMs` without progress or `maxMs` in all. */
    async waitAll(emails, { maxMs = 240_000, stallMs = 30_000 } = {}) {
      const t0 = Date.now();
      let last = -1;
      let lastProgress = Date.now();
      for (;;) {
        let missing = 0;
        for (const e of emails) if (!arrivals.has(e)) missing++;
        if (missing === 0) return { missing: 0, waitedMs: Date.now() - t0 };
        if (missing !== last) {
          last = missing;
          lastProgress = Date.now();
        }
        if (Date.now() - lastProgress > stallMs || Date.now() - t0 > maxMs) return { missing, waitedMs: Date.now() - t0 };
        await sleep(50);
      }
    },
  };
}

// ---- load generation --------------------------------------------------------------------------------
/**
 * One autocannon run. `next()` gives the body (object) and the context to check the response against;
 * `check(status, json, ctx)` returns an error string or null. Every response is checked, warm-up or not.
 *
 * Latencies are measured here with hrtime (µs) from the moment the request is built (immediately
 * before autocannon writes it) to the parsed response; autocannon's own figures (integer ms, 2xx only)
 * are kept beside them. `warmupMs`: responses to requests sent in the first `warmupMs` of the run are
 * checked but left out of the rate and the latency percentiles. This matters beyond JIT warm-up:
 * libuv accepts ONE new connection per event-loop iteration (libuv PR #3696), so when 50 connections
 * open against a saturated server the last ones wait up to ~2 s for accept(); measuring only after the
 * warm-up keeps that connection-setup artefact out of the steady-state p99 (it is reported apart as
 * "first request per connection").
 */
function cannon({ url, path, next, check, duration, amount, overallRate, maxMs, onOk, warmupMs = 0 }) {
  const tStart = nowMs();
  const measureFrom = tStart + warmupMs;
  const stat = { ok: 0, okAll: 0, bad: 0, statuses: {}, samples: [], latencies: [], firstConn: [], slow: [], built: 0, lastResp: 0, firstMeasured: Infinity };
  const bad = (why) => {
    stat.bad++;
    if (stat.samples.length < 5) stat.samples.push(why);
  };
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url,
        connections: CONNECTIONS,
        pipelining: 1,
        timeout: 10,
        ...(amount ? { amount } : { duration }),
        ...(overallRate ? { overallRate } : {}),
        requests: [
          {
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json' },
            setupRequest(req, ctx) {
              const { body, context } = next();
              Object.assign(ctx, context);
              // autocannon builds every connection's first request in its constructor, before any response.
              ctx.first = stat.built++ < CONNECTIONS;
              ctx.sentAt = nowMs();
              ctx.hr = process.hrtime.bigint();
              return { ...req, body: JSON.stringify(body) };
            },
            onResponse(status, body, ctx) {
              const t = nowMs();
              stat.lastResp = t;
              const lat = Number(process.hrtime.bigint() - ctx.hr) / 1e6;
              const measured = ctx.sentAt >= measureFrom;
              if (ctx.first) stat.firstConn.push(lat);
              if (measured) {
                stat.latencies.push(lat);
                if (ctx.sentAt < stat.firstMeasured) stat.firstMeasured = ctx.sentAt;
                if (lat > 500 && stat.slow.length < 20) stat.slow.push([Math.round(ctx.sentAt - measureFrom), Math.round(lat)]);
              }
              stat.statuses[status] = (stat.statuses[status] ?? 0) + 1;
              let json;
              try {
                json = JSON.parse(body);
              } catch {
                return bad(`${status} non-JSON body ${String(body).slice(0, 120)}`);
              }
              if (status < 200 || status > 299) return bad(`${status} ${String(body).slice(0, 200)}`);
              const err = check(status, json, ctx);
              if (err) return bad(`${status} ${err}`);
              stat.okAll++;
              if (measured) stat.ok++;
              onOk?.(ctx, t);
            },
          },
        ],
      },
      (err, result) => {
        clearTimeout(guard);
        if (err) return reject(err);
        stat.latencies.sort((a, b) => a - b);
        stat.firstConn.sort((a, b) => a - b);
        // Autocannon stops on its 1-s sampling tick, so its `duration` overstates a fixed-amount run by
        // up to a second: the rate is computed over the measured window, up to the last response.
        const span = (stat.lastResp - Math.max(measureFrom, Math.min(stat.firstMeasured, measureFrom))) / 1000;
        const responses = Object.values(stat.statuses).reduce((a, b) => a + b, 0);
        resolve({
          ...stat,
          latencies: undefined,
          firstConn: undefined,
          responses,
          measured: stat.latencies.length,
          rps: stat.ok / span,
          span,
          p50: pct(stat.latencies, 50),
          p90: pct(stat.latencies, 90),
          p99: pct(stat.latencies, 99),
          max: stat.latencies.at(-1),
          firstConnP50: pct(stat.firstConn, 50),
          firstConnMax: stat.firstConn.at(-1),
          ac: { rpsAvg: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, duration: result.duration, total: result.requests.total },
          errors: stat.bad + result.errors + result.timeouts + (amount ? Math.max(0, amount - responses) : 0),
        });
      },
    );
    // Hard bound on every run, whatever happens to the server.
    const guard = setTimeout(() => inst.stop(), maxMs ?? ((duration ?? 30) + 30) * 1000);
  });
}

// ---- RS256 sign rate --------------------------------------------------------------------------------
async function measureSignRate(ms = 2000) {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const key = createPrivateKey({ key: await exportJWK(privateKey), format: 'jwk' }); // as KeyManager holds it
  const iat = Math.floor(Date.now() / 1000);
  const payload = () => ({ iss: 'http://localhost:3000/', sub: 'email|0123456789abcdef01234567', aud: 'http://localhost:3000/userinfo', iat, exp: iat + 86400, jti: randomUUID(), azp: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345', scope: 'openid email' });
  const signOne = () => new SignJWT(payload()).setProtectedHeader({ alg: 'RS256', kid: 'bench-kid-0123456789ab', typ: 'at+jwt' }).sign(key);
  for (let i = 0; i < 50; i++) await signOne(); // warm-up (key import, JIT)
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    await signOne();
    n++;
  }
  const el = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Reference: node:crypto's synchronous RSA signature of the same-size input, no JWT encoding.
  const data = Buffer.from('x'.repeat(400));
  const t1 = performance.now();
  let m = 0;
  while (performance.now() - t1 < 500) {
    nodeSign('sha256', data, key);
    m++;
  }
  return { rate: n / el, cpuPct: ((cpu.user + cpu.system) / 1e6 / el) * 100, rawSyncRate: m / ((performance.now() - t1) / 1000) };
}

// ---- one run ------------------------------------------------------------------------------------------
async function oneRun(runNo) {
  const R = { run: runNo, errors: [] };
  const tmp = mkdtempSync(join(OPT.dbDir ?? tmpdir(), 'sesame-bench-'));
  const logPath = join(tmp, 'server.log');
  const logFd = openSync(logPath, 'a');
  const profDir = join(root, '.bench', 'profiles');
  if (OPT.profile) mkdirSync(profDir, { recursive: true });
  const tag = `r${runNo}${randomBytes(2).toString('hex').replace(/\d/g, (d) => 'ghijklmnop'[d])}`;
  let seq = 0;
  const newEmail = (s) => `${tag}${s}${(seq++).toString(36)}@bench.test`;

  console.log(`\n=== run ${runNo}/${OPT.runs} (tmp ${tmp}) ===`);
  const quiet = await waitQuiet();
  R.idleBefore = quiet.pct;
  console.log(`machine before the run: ${f(quiet.pct)}% of a core busy${quiet.pct > 15 ? ' — NOT QUIET, figures of this run are disturbed by other processes' : ' (quiet)'}`);
  if (quiet.pct > 15) R.noisy = [`machine ${f(quiet.pct)}% busy before the run`];
  const sign = await measureSignRate(2000);
  R.signRate = sign.rate;
  R.signCpuPct = sign.cpuPct;
  R.rawSignRate = sign.rawSyncRate;
  R.exchangeTarget = (0.8 * sign.rate) / 2;
  console.log(`RS256 (jose SignJWT, 2048-bit, sequential, this process): ${f(sign.rate)} signatures/s (CPU ${f(sign.cpuPct)}% of a core); node:crypto sign() sync: ${f(sign.rawSyncRate)}/s`);
  console.log(`  → OTP exchange target = 80% × ${f(sign.rate)} / 2 signatures per exchange = ${f(R.exchangeTarget)} req/s`);

  const sink = await startSinkChild();
  const pgDb = OPT.db === 'postgres' ? await createBenchDatabase(OPT.pgUrl) : undefined;
  if (pgDb) console.log(`PostgreSQL database ${pgDb.name} (dropped after the run)`);
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SESAME_PORT: '0',
    SESAME_HOST: '127.0.0.1',
    SESAME_DATABASE_URL: pgDb ? pgDb.url : `sqlite:${join(tmp, 'bench.db')}`,
    SESAME_SECRET: randomBytes(32).toString('base64url'),
    SESAME_BOOTSTRAP_CLIENT_ID: 'bench-mgmt',
    SESAME_BOOTSTRAP_CLIENT_SECRET: randomBytes(32).toString('base64url'),
    SESAME_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    SESAME_START_LIMIT_PER_HOUR: START_LIMIT,
    SESAME_LOG_LEVEL: 'warn',
    SESAME_MAIL_POLL_MS: '1000',
    ...OPT.serverEnv,
  };
  if (runNo === 1) {
    console.log(`server env: SESAME_START_LIMIT_PER_HOUR=${START_LIMIT} (raised from the default 50/h per IP: all load comes from 127.0.0.1),`);
    console.log(`            SESAME_DATABASE_URL=${pgDb ? 'postgres://…/sesame_bench_<random> (fresh per run)' : 'sqlite:<tmp>/bench.db (a file, WAL)'}, SESAME_SMTP_URL=smtp://127.0.0.1:<sink>, SESAME_LOG_LEVEL=warn, SESAME_MAIL_POLL_MS=1000, SESAME_MAIL_POOL_SIZE default (8)`);
  }
  // The product's launcher flags (bin/sesame.js, `npm start`), so the server runs as it is shipped.
  const execArgv = ['--max-semi-space-size=4', ...OPT.preload.flatMap((p) => ['--import', pathToFileURL(join(process.cwd(), p)).href])];
  // Profile mode: besides the per-scenario profiles of the main thread (inspector, below), --cpu-prof
  // writes one whole-run profile per thread at exit, which covers the mail worker thread too.
  const threadProfDir = join(profDir, `run${runNo}-threads-${Date.now()}`);
  if (OPT.profile) execArgv.push('--cpu-prof', '--cpu-prof-dir', threadProfDir, '--cpu-prof-interval', '1000');
  const srv = forkChild(join(here, 'server.mjs'), { env, logFd, name: 'server', execArgv });
  const ready = await srv.waitFor((m) => m?.type === 'ready', 60_000, 'ready');
  const { baseUrl, defaultApp } = ready;
  if (OPT.priority !== undefined) {
    const { setPriority } = await import('node:os');
    for (const pid of [process.pid, ready.pid, sink.child.pid]) setPriority(pid, OPT.priority);
    console.log(`process priority (nice) set to ${OPT.priority} for bench, server and sink`);
  }
  console.log(`server pid ${ready.pid} at ${baseUrl}; sink pid ${sink.child.pid} on 127.0.0.1:${sink.port}`);
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) throw new Error(`refusing to load anything but 127.0.0.1 (got ${baseUrl})`);

  // Per-scenario resource accounting.
  let mark;
  const markStart = async () => {
    const s = await srv.request({ cmd: 'stats', reset: true }, 'stats');
    const k = await sink.request({ cmd: 'stats' }, 'stats');
    const pgMeter = pgDb?.meter(OPT.priority);
    await pgMeter?.ready;
    mark = { t: nowMs(), srvCpu: s.cpu, sinkCpu: k.cpu, benchCpu: process.cpuUsage(), machine: cpuTimes(), pgMeter };
  };
  const markEnd = async () => {
    const s = await srv.request({ cmd: 'stats', reset: true }, 'stats');
    const k = await sink.request({ cmd: 'stats' }, 'stats');
    const wall = (nowMs() - mark.t) / 1000;
    const pgCpu = await mark.pgMeter?.stop();
    const cpuPct = (a, b) => ((b.user - a.user + b.system - a.system) / 1e6 / wall) * 100;
    const bench = process.cpuUsage(mark.benchCpu);
    const machine = machinePct(mark.machine, cpuTimes(), NCPU);
    const pgPct = pgCpu ? (pgCpu.cpuMs / 1000 / wall) * 100 : 0;
    const ours = cpuPct(mark.srvCpu, s.cpu) + cpuPct(mark.sinkCpu, k.cpu) + ((bench.user + bench.system) / 1e6 / wall) * 100 + pgPct;
    // CPU used on this machine by processes other than the bench's three (other users, builds, tests).
    const foreignPct = Math.max(0, machine - ours);
    if (foreignPct > 15) R.noisy = [...(R.noisy ?? []), `${f(foreignPct)}% of a core used by other processes during a measurement`];
    const srvCpuMs = (s.cpu.user - mark.srvCpu.user + s.cpu.system - mark.srvCpu.system) / 1000;
    return { wall, srvCpuMs, pgCpuMs: pgCpu?.cpuMs, pgCpuPct: pgCpu ? pgPct : undefined, pgBackends: pgCpu?.backends, machinePct: machine, foreignPct, rssPeakMb: mb(s.rssPeakWindow), heapPeakMb: mb(s.heapPeakWindow), eldP99: s.eldP99, eldMax: s.eldMax, srvCpuPct: cpuPct(mark.srvCpu, s.cpu), srvElu: s.elu, sinkCpuPct: cpuPct(mark.sinkCpu, k.cpu), benchCpuPct: ((bench.user + bench.system) / 1e6 / wall) * 100, outboxPending: s.outbox };
  };
  const profStart = async () => {
    if (OPT.profile) await srv.request({ cmd: 'profile-start', intervalUs: 500 }, 'profile-started');
  };
  const profStop = async (name) => {
    if (!OPT.profile) return;
    const file = join(profDir, `${name}.cpuprofile`);
    await srv.request({ cmd: 'profile-stop', file }, 'profile-stopped', 120_000);
    (R.profiles ??= []).push(file);
    console.log(`  profile written: ${file}`);
  };
  const profile = async (name, fn) => {
    await profStart();
    try {
      return await fn();
    } finally {
      await profStop(name);
    }
  };
  /** Runs `run()`; after `warmupMs` starts the resource accounting (and the profiler). */
  const withWindow = async (warmupMs, run) => {
    let begun;
    const timer = setTimeout(() => (begun = Promise.all([markStart(), profStart()])), warmupMs);
    const r = await run();
    clearTimeout(timer);
    if (!begun) begun = Promise.all([markStart(), profStart()]);
    await begun;
    return r;
  };
  const url = baseUrl;
  const startBody = (email) => ({ client_id: defaultApp.client_id, client_secret: defaultApp.client_secret, connection: 'email', email, send: 'code' });
  const startCheck = (_s, j, ctx) => (j && typeof j._id === 'string' && j._id.length > 0 && j.email === ctx.email && j.email_verified === false ? null : `unexpected body ${JSON.stringify(j).slice(0, 200)}`);
  const starts = (s, extra) => {
    const emails = [];
    return {
      emails,
      opts: {
        url,
        path: '/passwordless/start',
        next: () => {
          const email = newEmail(s);
          return { body: startBody(email), context: { email } };
        },
        check: startCheck,
        ...extra,
        onOk: (ctx, t) => {
          emails.push(ctx.email);
          extra?.onOk?.(ctx, t);
        },
      },
    };
  };
  const report = (label, r) =>
    console.log(`  ${label}: ${r.okAll} ok / ${r.responses} responses (${r.measured} in the measured window of ${f(r.span, 1)} s), ${f(r.rps)} req/s, p50 ${f(r.p50, 2)} ms, p99 ${f(r.p99, 2)} ms, max ${f(r.max, 1)} ms; errors ${r.errors}${r.samples.length ? ` e.g. ${r.samples[0]}` : ''}${r.slow.length ? `; ${r.slow.length}${r.slow.length === 20 ? '+' : ''} over 500 ms, sent at ms ${r.slow.slice(0, 6).map(([t, l]) => `${t} (${l})`).join(', ')}` : ''}; first request per connection p50 ${f(r.firstConnP50)} / max ${f(r.firstConnMax)} ms [autocannon: ${f(r.ac.rpsAvg)} req/s avg, p99 ${r.ac.p99} ms]`);
  const noteErrors = (scen, r) => {
    if (r.errors > 0) R.errors.push(`${scen}: ${r.errors} errors (statuses ${JSON.stringify(r.statuses)}; ${r.samples.join(' | ')})`);
  };
  /** CPU per answered request in the measured window: Sesame's process, and PostgreSQL's backends. */
  const perReq = (res, r) => ({ node: res.srvCpuMs / r.ok, pg: res.pgCpuMs === undefined ? undefined : res.pgCpuMs / r.ok });
  const cpuLine = (what, c, res) =>
    console.log(`  CPU per ${what}: Sesame (Node, all threads) ${f(c.node, 3)} ms${c.pg === undefined ? '' : `; PostgreSQL ${f(c.pg, 3)} ms (${f(res.pgCpuPct)}% of a core over ${res.pgBackends} backends)`}`);
  const drain = async (scen, emails) => {
    const w = await sink.waitAll(emails);
    const noCode = emails.filter((e) => sink.arrivals.get(e)?.code === null).length;
    if (w.missing > 0) R.errors.push(`${scen}: ${w.missing} of ${emails.length} mails never reached the sink`);
    if (noCode > 0) R.errors.push(`${scen}: ${noCode} mails without a 6-digit code`);
    return { ...w, noCode };
  };

  try {
    // ---- a. /passwordless/start ----
    if (OPT.scenarios.has('a')) {
      console.log(`a. POST /passwordless/start, ${CONNECTIONS} connections: one autocannon run, ${OPT.warmup} s warm-up (not measured) + ${OPT.duration} s measured`);
      const m = starts('a');
      const sinkBefore = sink.state.count;
      const r = await withWindow(OPT.warmup * 1000, () => cannon({ ...m.opts, duration: OPT.warmup + OPT.duration, warmupMs: OPT.warmup * 1000 }));
      const res = await markEnd();
      await profStop(`run${runNo}-a-start`);
      const mailsDuring = sink.state.count - sinkBefore;
      report('run', r);
      noteErrors('a', r);
      const d = await drain('a', m.emails);
      console.log(`  server CPU ${f(res.srvCpuPct)}% (event loop busy ${f(res.srvElu * 100)}%, loop delay p99 ${f(res.eldP99, 1)} ms / max ${f(res.eldMax, 1)} ms), sink CPU ${f(res.sinkCpuPct)}%, autocannon CPU ${f(res.benchCpuPct)}%, other processes ${f(res.foreignPct)}%; RSS peak ${f(res.rssPeakMb)} MB (JS heap peak ${f(res.heapPeakMb)} MB)`);
      console.log(`  mail during the run: ${f(mailsDuring / (OPT.warmup + OPT.duration))} mails/s arrived while starts were ${f(r.rps)}/s; outbox backlog at the end ${res.outboxPending}; drained in ${f(d.waitedMs / 1000, 1)} s (${d.missing} missing)`);
      const cpu = perReq(res, r);
      cpuLine('start', cpu, res);
      R.a = { rps: r.rps, p50: r.p50, p99: r.p99, max: r.max, firstConnMax: r.firstConnMax, errors: r.errors + d.missing + d.noCode, res, cpu, mailsDuringRate: mailsDuring / (OPT.warmup + OPT.duration), backlog: res.outboxPending, drainS: d.waitedMs / 1000, ac: r.ac };
    }

    // ---- b. OTP exchange ----
    if (OPT.scenarios.has('b')) {
      console.log(`b. POST /oauth/token (passwordless OTP), ${CONNECTIONS} connections, one distinct (email, code) per request`);
      const preIssue = async (n, label) => {
        const s = starts('o');
        const r = await cannon({ ...s.opts, amount: n, overallRate: 2500, maxMs: 120_000 });
        noteErrors(`b (pre-issue ${label})`, r);
        const d = await drain(`b (pre-issue ${label})`, s.emails);
        const queue = s.emails.map((email) => ({ email, code: sink.arrivals.get(email)?.code })).filter((x) => x.code);
        console.log(`  pre-issued ${queue.length} codes (${label}) at ${f(r.rps)} starts/s; all at the sink after ${f(d.waitedMs / 1000, 1)} s`);
        return queue;
      };
      const exchange = (queue) => {
        let i = 0;
        return {
          url,
          path: '/oauth/token',
          next: () => {
            const item = queue[i++] ?? { email: `missing-${i}@bench.test`, code: '000000' };
            return {
              body: { grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp', client_id: defaultApp.client_id, client_secret: defaultApp.client_secret, realm: 'email', username: item.email, otp: item.code, scope: 'openid email' },
              context: { email: item.email },
            };
          },
          check: (_s, j, ctx) => {
            if (typeof j.access_token !== 'string' || j.access_token.split('.').length !== 3) return 'no access_token';
            if (typeof j.id_token !== 'string' || j.id_token.split('.').length !== 3) return 'no id_token';
            if (j.token_type !== 'Bearer') return 'token_type';
            try {
              const claims = JSON.parse(Buffer.from(j.id_token.split('.')[1], 'base64url').toString('utf8'));
              if (claims.email !== ctx.email) return `id_token email ${claims.email} ≠ ${ctx.email}`;
            } catch {
              return 'id_token payload unreadable';
            }
            return null;
          },
        };
      };
      const calQueue = await preIssue(1000, 'calibration');
      const cal = await cannon({ ...exchange(calQueue), amount: calQueue.length, maxMs: 60_000, warmupMs: 500 });
      report('calibration', cal);
      noteErrors('b (calibration)', cal);
      const n = Math.min(40_000, Math.max(2_000, Math.ceil((Number.isFinite(cal.rps) ? cal.rps : 500) * (OPT.duration + OPT.warmup) * 1.6)));
      const queue = await preIssue(n, `measured run, sized ${f(cal.rps)}/s × (${OPT.warmup} + ${OPT.duration}) s × 1.6`);
      const r = await withWindow(OPT.warmup * 1000, () => cannon({ ...exchange(queue), amount: queue.length, maxMs: 120_000, warmupMs: OPT.warmup * 1000 }));
      const res = await markEnd();
      await profStop(`run${runNo}-b-token`);
      report(`run (${OPT.warmup} s warm-up)`, r);
      noteErrors('b', r);
      console.log(`  server CPU ${f(res.srvCpuPct)}% (event loop busy ${f(res.srvElu * 100)}%, loop delay p99 ${f(res.eldP99, 1)} ms / max ${f(res.eldMax, 1)} ms; RSA signing may also run on libuv threads), autocannon CPU ${f(res.benchCpuPct)}%, other processes ${f(res.foreignPct)}%; RSS peak ${f(res.rssPeakMb)} MB (JS heap peak ${f(res.heapPeakMb)} MB)`);
      console.log(`  target ${f(R.exchangeTarget)} req/s (80% of ${f(R.signRate)} signs/s ÷ 2) → ${f((r.rps / R.exchangeTarget) * 100)}% of target`);
      const cpu = perReq(res, r);
      cpuLine('exchange', cpu, res);
      R.b = { rps: r.rps, p50: r.p50, p99: r.p99, max: r.max, firstConnMax: r.firstConnMax, errors: r.errors + cal.errors, target: R.exchangeTarget, n: queue.length, res, cpu, ac: r.ac };
    }

    // ---- c. mail pipeline ----
    if (OPT.scenarios.has('c')) {
      console.log(`c(i). outbox throughput: ${BURST} starts enqueued while the sink holds its replies, then released`);
      sink.child.send({ cmd: 'pause' });
      await sleep(50);
      const s = starts('m');
      const tBurst = nowMs();
      const br = await cannon({ ...s.opts, amount: BURST, maxMs: 15_000 });
      noteErrors('c(i) burst', br);
      report('burst', br);
      const held = await srv.request({ cmd: 'stats' }, 'stats');
      await markStart();
      const resumed = await sink.request({ cmd: 'resume' }, 'resumed');
      // (The mail worker may run on its own thread: the whole-run --cpu-prof profile of that thread covers it.)
      const d = await profile(`run${runNo}-c-drain-main-thread`, () => drain('c(i)', s.emails));
      const res = await markEnd();
      const after = s.emails.map((e) => sink.arrivals.get(e)?.t).filter((t) => t !== undefined && t >= resumed.t);
      const tLast = Math.max(...s.emails.map((e) => sink.arrivals.get(e)?.t ?? 0));
      const drainRate = after.length / ((tLast - resumed.t) / 1000);
      const e2eRate = s.emails.length / ((tLast - tBurst) / 1000);
      console.log(`  outbox held ${held.outbox} pending rows (+${resumed.held} replies held at the sink) when released; ${after.length} mails drained in ${f((tLast - resumed.t) / 1000, 2)} s → ${f(drainRate)} mails/s (burst start → last mail: ${f(e2eRate)} mails/s)`);
      console.log(`  server CPU during drain ${f(res.srvCpuPct)}%, sink CPU ${f(res.sinkCpuPct)}%, other processes ${f(res.foreignPct)}%; RSS peak ${f(res.rssPeakMb)} MB; missing ${d.missing}`);
      R.ci = { rate: drainRate, e2eRate, errors: br.errors + d.missing + d.noCode, backlog: held.outbox, res };

      console.log(`c(ii). mail latency: ${STEADY_RATE} starts/s (autocannon overallRate) for ${OPT.duration} s, delay 200 response → sink`);
      const resp = new Map();
      const l = starts('l', { onOk: (ctx, t) => resp.set(ctx.email, t) });
      await markStart();
      const lr = await cannon({ ...l.opts, duration: OPT.duration, overallRate: STEADY_RATE });
      noteErrors('c(ii)', lr);
      report('steady', lr);
      const dd = await drain('c(ii)', l.emails);
      const res2 = await markEnd();
      const delays = l.emails.map((e) => (sink.arrivals.get(e)?.t ?? NaN) - resp.get(e)).filter(Number.isFinite).sort((a, b) => a - b);
      // autocannon's rate limiter sends each connection's per-second quota back to back at the start of
      // each second: measure how bursty the offered load really was.
      const sends = l.emails.map((e) => resp.get(e)).sort((a, b) => a - b);
      let peak100 = 0;
      for (let i = 0, j = 0; i < sends.length; i++) {
        while (sends[i] - sends[j] > 100) j++;
        peak100 = Math.max(peak100, i - j + 1);
      }
      const over2s = delays.filter((x) => x > 2000).length;
      console.log(`  delivered ${delays.length}/${l.emails.length} (missing ${dd.missing}); delay p50 ${f(pct(delays, 50), 1)} ms, p99 ${f(pct(delays, 99), 1)} ms, max ${f(delays.at(-1), 1)} ms, over 2 s: ${over2s}; busiest 100 ms window: ${peak100} responses (${f(peak100 * 10)}/s instantaneous)`);
      // How the delay evolved: a growing delay means the outbox falls behind under this load.
      const t0 = Math.min(...l.emails.map((e) => resp.get(e)));
      const perSec = [];
      for (const e of l.emails) {
        const d = (sink.arrivals.get(e)?.t ?? NaN) - resp.get(e);
        if (!Number.isFinite(d)) continue;
        const sIdx = Math.floor((resp.get(e) - t0) / 1000);
        (perSec[sIdx] ??= []).push(d);
      }
      console.log(`  delay p50 by second of the run: ${perSec.map((xs) => f(pct(xs.sort((a, b) => a - b), 50))).join(', ')} ms`);
      console.log(`  server CPU ${f(res2.srvCpuPct)}% (loop delay p99 ${f(res2.eldP99, 1)} ms / max ${f(res2.eldMax, 1)} ms), sink CPU ${f(res2.sinkCpuPct)}%, other processes ${f(res2.foreignPct)}%; RSS peak ${f(res2.rssPeakMb)} MB (JS heap peak ${f(res2.heapPeakMb)} MB)`);
      R.cii = { rate: lr.rps, delivered: delays.length, sent: l.emails.length, p50: pct(delays, 50), p99: pct(delays, 99), max: delays.at(-1), over2s, errors: lr.errors + dd.missing + dd.noCode, peak100, res: res2 };
    }

    const final = await srv.request({ cmd: 'stats' }, 'stats');
    R.rssPeakMb = mb(final.rssPeak);
    console.log(`d. server peak RSS over the run: ${f(R.rssPeakMb, 1)} MB`);
  } finally {
    // Clean shutdown: the product's SIGTERM path (drain, stop the mail worker, close the DB).
    const t0 = Date.now();
    if (!srv.exited) srv.child.kill('SIGTERM');
    const killer = setTimeout(() => srv.child.kill('SIGKILL'), 40_000);
    const ex = await srv.exitP;
    clearTimeout(killer);
    R.serverExit = { ...ex, ms: Date.now() - t0 };
    console.log(`server exit after SIGTERM: code ${ex.code ?? '—'} signal ${ex.signal ?? '—'} in ${Date.now() - t0} ms`);
    if (ex.code !== 0) R.errors.push(`server did not exit cleanly on SIGTERM (code ${ex.code}, signal ${ex.signal})`);
    if (OPT.profile && existsSync(threadProfDir)) {
      // CPU.<date>.<pid>.<threadId>.<seq>.cpuprofile: thread 0 is the main thread, others are workers.
      const { readdirSync } = await import('node:fs');
      for (const fl of readdirSync(threadProfDir).sort()) {
        const tid = fl.split('.').at(-3);
        if (tid !== '0') (R.profiles ??= []).push(join(threadProfDir, fl));
        console.log(`  whole-run profile of thread ${tid}${tid === '0' ? ' (main)' : ' (worker: mail thread)'}: ${join(threadProfDir, fl)}`);
      }
    }
    await sink.request({ cmd: 'close' }, 'closed', 10_000).catch(() => sink.child.kill('SIGKILL'));
    closeSync(logFd);
    const log = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
    const warn = log.filter((x) => /"level":(40|50|60)/.test(x) || !x.startsWith('{'));
    R.serverLogLines = warn.length;
    if (warn.length) {
      console.log(`server log: ${warn.length} warning/error lines, first ones:`);
      for (const x of warn.slice(0, 5)) {
        // Error lines in full enough to see the stack (pino JSON: message + first frames).
        let shown = x.slice(0, 300);
        try {
          const j = JSON.parse(x);
          if (j.level >= 50) shown = `${j.msg ?? ''} ${j.err?.type ?? ''}: ${j.err?.message ?? ''}\n    ${(j.err?.stack ?? '').split('\n').slice(1, 9).map((l) => l.trim()).join('\n    ')}`;
        } catch {}
        console.log(`  ${shown}`);
      }
    }
    if (sink.state.duplicates) console.log(`sink: ${sink.state.duplicates} duplicate deliveries`);
    if (!OPT.keep) rmSync(tmp, { recursive: true, force: true });
    await pgDb?.drop().catch((err) => console.log(`could not drop ${pgDb.name}: ${err.message}`));
  }
  return R;
}

// ---- table --------------------------------------------------------------------------------------------
function summarize(runs) {
  const rows = [];
  const col = (get) => runs.map((r) => get(r));
  const anyErr = (get) => runs.some((r) => (get(r) ?? 0) > 0);
  const add = (scen, metric, vals, d, target, pass, errs) => rows.push({ scen, metric, vals, med: median(vals), d, target, pass, errs });
  if (runs.some((r) => r.a)) {
    const e = anyErr((r) => r.a?.errors);
    // Targets: SQLite's from the original brief; PostgreSQL's from issue 13 (same two cores).
    const [minRps, maxP99] = OPT.db === 'postgres' ? [4000, 50] : [5000, 30];
    add('a. /passwordless/start', 'req/s', col((r) => r.a?.rps), 0, `≥ ${f(minRps)}`, (m) => m >= minRps, e);
    add('', 'p50 latency (ms)', col((r) => r.a?.p50), 2, '', null, e);
    add('', 'p99 latency (ms)', col((r) => r.a?.p99), 2, `≤ ${maxP99}`, (m) => m <= maxP99, e);
    add('', 'errors', col((r) => r.a?.errors), 0, '0', (m) => m === 0, e);
    add('', 'server CPU % (1 core = 100)', col((r) => r.a?.res.srvCpuPct), 0, '', null, false);
    add('', 'Node CPU per start (ms)', col((r) => r.a?.cpu.node), 3, '', null, false);
    if (OPT.db === 'postgres') add('', 'PostgreSQL CPU per start (ms)', col((r) => r.a?.cpu.pg), 3, '≤ 0.25', (m) => m <= 0.25, false);
    add('', 'other processes CPU % (noise)', col((r) => r.a?.res.foreignPct), 0, '', null, false);
  }
  if (runs.some((r) => r.b)) {
    const e = anyErr((r) => r.b?.errors);
    add('b. OTP exchange', 'RS256 signs/s (jose, 1 core)', col((r) => r.signRate), 0, '', null, false);
    const tgt = median(col((r) => r.exchangeTarget));
    if (OPT.db === 'postgres') add('', 'req/s', col((r) => r.b?.rps), 0, '≥ 1,500', (m) => m >= 1500, e);
    else add('', 'req/s', col((r) => r.b?.rps), 0, `≥ ${f(tgt)} (80% × signs/s ÷ 2)`, (m) => m >= tgt, e);
    add('', 'p50 latency (ms)', col((r) => r.b?.p50), 2, '', null, e);
    add('', 'p99 latency (ms)', col((r) => r.b?.p99), 2, '≤ 100', (m) => m <= 100, e);
    add('', 'errors', col((r) => r.b?.errors), 0, '0', (m) => m === 0, e);
    add('', 'server CPU % (1 core = 100)', col((r) => r.b?.res.srvCpuPct), 0, '', null, false);
    add('', 'Node CPU per exchange (ms)', col((r) => r.b?.cpu.node), 3, '', null, false);
    if (OPT.db === 'postgres') add('', 'PostgreSQL CPU per exchange (ms)', col((r) => r.b?.cpu.pg), 3, '', null, false);
    add('', 'other processes CPU % (noise)', col((r) => r.b?.res.foreignPct), 0, '', null, false);
  }
  if (runs.some((r) => r.ci)) {
    const e = anyErr((r) => r.ci?.errors);
    add('c(i). outbox burst', 'mails/s (drain at sink)', col((r) => r.ci?.rate), 0, '≥ 1,000', (m) => m >= 1000, e);
    add('', 'mails/s (burst start→last)', col((r) => r.ci?.e2eRate), 0, '', null, e);
    const e2 = anyErr((r) => r.cii?.errors) || runs.some((r) => r.cii && r.cii.delivered !== r.cii.sent);
    add('c(ii). 1,000 starts/s', 'starts/s achieved', col((r) => r.cii?.rate), 0, '', null, e2);
    add('', 'delivered / sent', col((r) => (r.cii ? r.cii.delivered / r.cii.sent : NaN)), 4, 'all', (m) => m === 1, e2);
    add('', 'delay p50 (ms)', col((r) => r.cii?.p50), 1, '', null, e2);
    add('', 'delay p99 (ms)', col((r) => r.cii?.p99), 1, '≤ 2,000', (m) => m <= 2000, e2);
    add('', 'delay max (ms)', col((r) => r.cii?.max), 1, '', null, e2);
  }
  add('d. server', 'peak RSS (MB)', col((r) => r.rssPeakMb), 1, '≤ 200', (m) => m <= 200, false);

  const head = ['scenario', 'metric', ...runs.map((r) => `run ${r.run}`), runs.length > 1 ? 'median' : 'value', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.scen,
    r.metric,
    ...r.vals.map((v) => f(v, r.d)),
    f(r.med, r.d),
    r.target,
    r.pass ? (r.errs ? 'FAIL (errors)' : r.pass(r.med) ? 'PASS' : 'FAIL') : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\n${'='.repeat(20)} Sesame benchmark — ${runs.length} run${runs.length > 1 ? 's, median' : ''} ${'='.repeat(20)}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  return rows;
}

// ---- main ---------------------------------------------------------------------------------------------
if (!existsSync(join(root, 'dist', 'app.js'))) {
  console.error('dist/app.js not found: run `npm run build` first (or `npm run bench`).');
  process.exit(2);
}
console.log(`Sesame benchmark on ${OPT.db === 'postgres' ? `PostgreSQL (${OPT.pgUrl.replace(/\/\/[^@/]*@/, '//')}, a fresh database per run)` : 'SQLite'}: ${OPT.runs} run(s), ${OPT.duration} s per timed scenario, ${CONNECTIONS} connections, node ${process.version}, ${NCPU} CPUs; everything on 127.0.0.1`);
if (Object.keys(OPT.serverEnv).length || OPT.preload.length) console.log(`EXPERIMENT: server env overrides ${JSON.stringify(OPT.serverEnv)}, preloads ${JSON.stringify(OPT.preload)} — not the product as shipped.`);
if (OPT.dbDir) console.log(`SQLite file under ${OPT.dbDir}`);
if (OPT.profile) console.log('PROFILE MODE: the server runs the V8 sampling profiler during a, b and c(i) — figures are slowed by it and are not valid for PASS/FAIL.');
const runs = [];
for (let i = 1; i <= OPT.runs; i++) runs.push(await oneRun(i));
const rows = summarize(runs);
const noisy = runs.flatMap((r) => (r.noisy ?? []).map((e) => `run ${r.run}: ${e}`));
if (noisy.length) {
  console.log('\nNOISY MACHINE — other processes competed for the 2 cores; treat these figures as lower bounds:');
  for (const e of noisy) console.log(`  - ${e}`);
}
const allErrors = runs.flatMap((r) => r.errors.map((e) => `run ${r.run}: ${e}`));
if (allErrors.length) {
  console.log('\nERRORS (these runs are not clean; affected rows say FAIL (errors)):');
  for (const e of allErrors) console.log(`  - ${e}`);
} else console.log('\nNo request or delivery errors in any run.');
const out = OPT.json ?? join(root, '.bench', `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ options: { ...OPT, scenarios: [...OPT.scenarios] }, runs, rows: rows.map(({ pass, ...r }) => r) }, null, 2));
console.log(`raw results: ${out}`);
if (OPT.profile) {
  const { printProfileReport } = await import('./profile-report.mjs');
  for (const p of runs.flatMap((r) => r.profiles ?? [])) printProfileReport(p);
}
// Exit status: 0 only when every run was clean (targets are reported, not enforced).
process.exitCode = allErrors.length ? 1 : 0;
