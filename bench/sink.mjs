// SMTP sink for the benchmark: a real smtp-server on 127.0.0.1 (ephemeral port, no auth, no
// STARTTLS) that records, for every message, when it arrived, its envelope recipient and the one-time
// code found in its body.
//
// Two ways to use it:
//   - as a module: `const sink = await startSink({ onMessage })` (tests, ad-hoc scripts);
//   - as a child process (what bench/run.mjs does): `fork('bench/sink.mjs')`. Running it in its own
//     process keeps its CPU (SMTP protocol + MIME decoding, a few % of a core at 5k mails/s) off the
//     event loop of the process that runs autocannon, so the HTTP latencies autocannon reports are not
//     inflated by mail parsing, and lets the bench report the sink's CPU separately. It still shares
//     the machine's 2 cores with the server and the load generator; run.mjs prints its CPU use.
//
// Child protocol (IPC, JSON):
//   → parent  {type:'ready', port}
//   → parent  {type:'mail', items:[[t, to, code|null], ...]}   batched every 20 ms (t: epoch ms, µs precision)
//   ← parent  {cmd:'pause'}  hold the reply to every DATA until resume (builds an outbox backlog)
//   ← parent  {cmd:'resume'} → {type:'resumed', t, held}
//   ← parent  {cmd:'stats'}  → {type:'stats', received, noCode, cpu:{user,system}}
//   ← parent  {cmd:'close'}  → {type:'closed'} then exit
import { pathToFileURL } from 'node:url';
import { SMTPServer } from 'smtp-server';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

const CODE = /(?<!\d)\d{6}(?!\d)/;

/**
 * The code of a message: the first run of exactly 6 digits, looked for in the text/plain part first,
 * then in the HTML part, then in the whole decoded body. The recipient address is removed first so
 * digits in it can never be taken for a code.
 */
export function extractCode(raw, recipient) {
  const parts = leaves(raw);
  const scrub = (s) => (recipient ? s.split(recipient).join(' ') : s);
  const ordered = [
    ...parts.filter((p) => p.type === 'text/plain'),
    ...parts.filter((p) => p.type === 'text/html').map((p) => ({ ...p, content: p.content.replace(/<[^>]*>/g, ' ') })),
    ...parts.filter((p) => p.type !== 'text/plain' && p.type !== 'text/html'),
  ];
  for (const p of ordered) {
    const m = CODE.exec(scrub(p.content));
    if (m) return m[0];
  }
  return null;
}

// Minimal MIME reading: headers, (nested) multipart, quoted-printable and base64.
function split(entity) {
  let at = entity.indexOf('\r\n\r\n');
  let sep = 4;
  if (at < 0) {
    at = entity.indexOf('\n\n');
    sep = 2;
  }
  const head = at < 0 ? entity : entity.slice(0, at);
  const headers = new Map();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: at < 0 ? '' : entity.slice(at + sep) };
}

function leaves(entity, depth = 0) {
  const { headers, body } = split(entity);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0].trim().toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (type.startsWith('multipart/') && boundary && depth < 5) {
    const sections = body.split(`--${boundary}`).slice(1, -1);
    return sections.flatMap((s) => leaves(s.replace(/^\r?\n/, '').replace(/\r?\n$/, ''), depth + 1));
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return [{ type, content: decode(body, encoding) }];
}

const qp = (s) => s.replace(/=\r?\n/g, '').replace(/(?:=[0-9A-F]{2})+/gi, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));

function decode(body, encoding) {
  if (encoding === 'quoted-printable') return qp(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/**
 * Starts the sink. `onMessage({t, to, code})` is called for every accepted message; `t` is taken when
 * the end of DATA arrives (before the reply, so a paused sink still timestamps arrivals).
 */
export async function startSink({ onMessage = () => {} } = {}) {
  let paused = false;
  let held = [];
  const stats = { received: 0, noCode: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    banner: 'sesame bench sink',
    // Pooled clients keep their connections open; close() must not wait for them.
    closeTimeout: 50,
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const t = nowMs();
        const to = (session.envelope.rcptTo[0]?.address ?? '').toLowerCase();
        const code = extractCode(Buffer.concat(chunks).toString('utf8'), to);
        stats.received++;
        if (code === null) stats.noCode++;
        onMessage({ t, to, code });
        if (paused) held.push(cb);
        else cb();
      });
    },
  });
  server.on('error', (err) => process.stderr.write(`sink: ${err.message}\n`));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    stats,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      const cbs = held;
      held = [];
      for (const cb of cbs) cb();
      return cbs.length;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---- child-process entry ----------------------------------------------------------------------------
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let batch = [];
  const flush = () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    process.send({ type: 'mail', items });
  };
  const sink = await startSink({
    onMessage: ({ t, to, code }) => {
      batch.push([t, to, code]);
      if (batch.length >= 1000) flush();
    },
  });
  const timer = setInterval(flush, 20);
  process.on('message', async (msg) => {
    if (msg?.cmd === 'pause') sink.pause();
    else if (msg?.cmd === 'resume') {
      const t = nowMs();
      const n = sink.resume();
      process.send({ type: 'resumed', t, held: n });
    } else if (msg?.cmd === 'stats') {
      flush();
      process.send({ type: 'stats', ...sink.stats, cpu: process.cpuUsage() });
    } else if (msg?.cmd === 'close') {
      flush();
      clearInterval(timer);
      await sink.close();
      process.send({ type: 'closed' }, () => process.exit(0));
    }
  });
  // The bench process went away: don't linger.
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port: sink.port });
}
