// Summarises a V8 .cpuprofile (from `node bench/run.mjs --profile`, or `node --cpu-prof`):
// self time by package/area, top functions by self time, and inclusive time of the areas that matter
// for Sesame's hot paths (Kysely compile vs SQLite prepare vs SQLite execution, JSON, HTTP, mail).
//
//   node bench/profile-report.mjs .bench/profiles/run1-a-start.cpuprofile [--top 30]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

const NATIVE_SQLITE = new Set(['prepare', 'all', 'run', 'get', 'iterate', 'exec', 'pragma']);

/** Where a frame's code lives: npm package, Sesame's dist/ file, node core, or a V8 pseudo-frame. */
function where(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const d = url.indexOf('/dist/');
  if (d >= 0) return `sesame:${url.slice(d + 6)}`;
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

/** Self-time bucket of a leaf frame; native frames are named after what called them. */
function category(node, parent) {
  const { functionName: fn, url } = node.callFrame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return '(program: native, not attributed)';
  if (fn === '(root)') return '(root)';
  if (!url) {
    const pw = parent ? where(parent.callFrame.url) : '';
    if (pw === 'kysely' && NATIVE_SQLITE.has(fn)) return 'SQLite execute all/run/get (native)';
    if (pw === 'better-sqlite3' && fn === 'Statement') return 'SQLite prepare (native Statement constructor, per query)';
    if (pw === 'better-sqlite3' || (pw === 'kysely' && fn)) return `native ${fn} (from ${pw})`;
    if (/^(parse|stringify)$/.test(fn)) return `JSON.${fn} (native)`;
    return `native ${fn || '(anonymous)'} (from ${pw || '?'})`;
  }
  const w = where(url);
  if (w === 'kysely') {
    if (url.includes('/query-compiler/')) return 'kysely: query compile';
    if (url.includes('/driver/') || url.includes('/dialect/')) return 'kysely: driver/connection';
    return 'kysely: builders/nodes/executor';
  }
  if (w.startsWith('sesame:')) return `sesame ${w.slice(7)}`;
  return w;
}

/** Inclusive areas: a sample counts once for every area some frame of its stack belongs to. */
const AREAS = [
  ['HTTP: fastify + find-my-way + body parsing', (f) => /\/node_modules\/(fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|@fastify\/[^/]+|fast-querystring|toad-cache|process-warning)\//.test(f.url)],
  ['node core net/http/streams', (f) => /^node:(internal\/)?(http|_http|net|stream|streams|tls)/.test(f.url) || /^node:internal\/(http|streams|stream_base)/.test(f.url)],
  ['Kysely (all of it, incl. the native SQLite calls it makes)', (f) => f.url.includes('/node_modules/kysely/')],
  ['  Kysely query compile (query-compiler/)', (f) => f.url.includes('/kysely/dist/esm/query-compiler/')],
  ['  SQLite prepare (native Statement constructor, from Kysely driver)', (f, p) => !f.url && f.functionName === 'Statement' && p?.url.includes('/better-sqlite3/')],
  ['  SQLite execute all/run/get (native, from Kysely driver)', (f, p) => !f.url && /^(all|run|get)$/.test(f.functionName) && p?.url.includes('/kysely/')],
  ['pino (logging)', (f) => f.url.includes('/node_modules/pino')],
  ['liquidjs (email templates)', (f) => f.url.includes('/node_modules/liquidjs/')],
  ['nodemailer (SMTP client, MIME build)', (f) => f.url.includes('/node_modules/nodemailer/')],
  ['jose (JWT)', (f) => f.url.includes('/node_modules/jose/')],
  ['sesame dist/ (own code, incl. callees)', (f) => f.url.includes('/dist/')],
  ['  sesame mail/ (worker, transport, templates)', (f) => f.url.includes('/dist/mail/')],
  ['  sesame store/sql (SqlStore methods)', (f) => f.url.includes('/dist/store/')],
  ['  sesame core/logs (makeLog) + store/sql/log-sql (logToRow)', (f) => f.url.includes('/dist/core/logs') || f.url.includes('/log-sql')],
  ['  sesame core/crypto (HMAC, randomInt)', (f) => f.url.includes('/dist/core/crypto')],
  ['JSON.parse / JSON.stringify (native)', (f) => !f.url && /^(parse|stringify)$/.test(f.functionName)],
  ['crypto (node:crypto / webcrypto)', (f) => /^node:internal\/crypto\//.test(f.url)],
  ['GC', (f) => f.functionName === '(garbage collector)'],
];

export function analyse(file, { top = 25 } = {}) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  // DevTools convention: a sample lasts until the next one.
  const dur = new Map();
  const n = p.samples.length;
  const avg = (p.endTime - p.startTime) / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const d = i + 1 < n ? p.timeDeltas[i + 1] : avg;
    dur.set(p.samples[i], (dur.get(p.samples[i]) ?? 0) + Math.max(0, d));
  }
  let total = 0;
  for (const v of dur.values()) total += v;
  const idle = [...dur].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;

  const cats = new Map();
  const fns = new Map();
  const areas = new Map(AREAS.map(([name]) => [name, 0]));
  for (const [id, d] of dur) {
    const node = byId.get(id);
    const par = parent.get(id);
    const c = category(node, par);
    cats.set(c, (cats.get(c) ?? 0) + d);
    const cf = node.callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url ? `${where(cf.url)}:${basename(cf.url)}:${cf.lineNumber + 1}` : `[native, called from ${par ? `${par.callFrame.functionName || '(anon)'} ${where(par.callFrame.url)}${par.callFrame.url ? `:${basename(par.callFrame.url)}:${par.callFrame.lineNumber + 1}` : ''}` : '?'}]`}`;
    fns.set(key, (fns.get(key) ?? 0) + d);
    // Inclusive areas: walk the stack once.
    const hit = new Set();
    for (let cur = node, up = par; cur; cur = up, up = up ? parent.get(up.id) : undefined) {
      for (const [name, test] of AREAS) if (!hit.has(name) && test(cur.callFrame, up?.callFrame)) hit.add(name);
    }
    for (const name of hit) areas.set(name, areas.get(name) + d);
  }
  const sortDesc = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { file, totalMs: total / 1000, busyMs: busy / 1000, idleMs: idle / 1000, cats: sortDesc(cats), fns: sortDesc(fns).slice(0, top), areas: [...areas] };
}

export function printProfileReport(file, opts) {
  const r = analyse(file, opts);
  const pc = (us) => `${((us / 1000 / r.busyMs) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n### CPU profile ${basename(file)}: ${(r.totalMs / 1000).toFixed(1)} s sampled, thread busy ${(r.busyMs / 1000).toFixed(1)} s (${((r.busyMs / r.totalMs) * 100).toFixed(0)}%), idle ${(r.idleMs / 1000).toFixed(1)} s. Percentages are of busy (non-idle) time.`);
  console.log('Self time by area:');
  for (const [c, us] of r.cats) if (c !== 'idle' && us / 1000 / r.busyMs >= 0.004) console.log(`  ${pc(us)}  ${c}`);
  console.log(`Top ${r.fns.length} functions by self time:`);
  for (const [k, us] of r.fns) if (!k.startsWith('(idle)')) console.log(`  ${pc(us)}  ${k}`);
  console.log('Inclusive time (a sample counts for every area on its stack; async continuations lose their callers):');
  for (const [a, us] of r.areas) console.log(`  ${pc(us)}  ${a}`);
  return r;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 25;
  if (!args.length) {
    console.error('usage: node bench/profile-report.mjs FILE.cpuprofile [...] [--top N]');
    process.exit(2);
  }
  for (const f of args) printProfileReport(f, { top });
}
