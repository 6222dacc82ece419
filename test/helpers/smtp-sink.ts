import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { makeTestCert } from './tls.ts';

/** One message as the sink received it, decoded enough to read codes and links. */
export interface SinkMessage {
  /** Envelope recipient (RCPT TO), the first one. */
  to: string;
  /** The From header, encoded words decoded. */
  from: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
  /** SMTP AUTH user name, when the client authenticated. */
  user: string | undefined;
  /** Whether the message came over TLS (implicit or STARTTLS). */
  secure: boolean;
  /** The SMTP connection it came over (smtp-server's session id). */
  session: string;
}

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:PORT` (`smtps://` for implicit TLS). */
  url: string;
  messages: SinkMessage[];
  /** Messages refused on purpose by `failNext`. */
  rejected: number;
  /** The most SMTP connections that were open at once. */
  maxOpen: number;
  waitFor(predicate: (m: SinkMessage) => boolean, timeoutMs?: number): Promise<SinkMessage>;
  /** Refuses the next `n` messages at the end of DATA with this SMTP reply code. */
  failNext(n: number, code?: number): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 (ephemeral port) that keeps what it receives (STYLE.md §12).
 * `tls`: none (plain, the default), `starttls` (offered, self-signed) or `implicit` (smtps).
 */
export async function startSmtpSink(opts: { tls?: 'starttls' | 'implicit' } = {}): Promise<SmtpSink> {
  let failures = 0;
  let open = 0;
  let failCode = 451;
  const waiters = new Set<(m: SinkMessage) => void>();
  const cert = opts.tls ? await makeTestCert() : undefined;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    // Plain by default: nodemailer's STARTTLS is opportunistic, so it simply is not offered.
    ...(cert ? { key: readFileSync(cert.keyPath), cert: readFileSync(cert.certPath), secure: opts.tls === 'implicit' } : { disabledCommands: ['STARTTLS'] }),
    disableReverseLookup: true,
    logger: false,
    onConnect(_session, cb) {
      open++;
      sink.maxOpen = Math.max(sink.maxOpen, open);
      cb();
    },
    onClose() {
      open--;
    },
    // Pooled clients keep connections open; don't let close() wait 30 s for them.
    closeTimeout: 50,
    onAuth(auth, _session, cb) {
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          sink.rejected++;
          const err = Object.assign(new Error(`sink refused this message on purpose (${failCode})`), { responseCode: failCode });
          return cb(err);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const msg = { ...parse(raw, session.envelope.rcptTo[0]?.address ?? '', typeof session.user === 'string' ? session.user : undefined, session.secure), session: session.id };
        sink.messages.push(msg);
        for (const w of waiters) w(msg);
        cb();
      });
    },
  });
  // A sender killed mid-session (the crash tests' kill -9) resets its connection: smtp-server
  // reports that as an 'error' event, which unheard would be an uncaught exception in the test.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const sink: SmtpSink = {
    port,
    url: `${opts.tls === 'implicit' ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    messages: [],
    rejected: 0,
    maxOpen: 0,
    // 15 s: a mail that is due arrives within a second on a quiet machine, but the first one after a
    // boot waits for the mail thread and its pool; on a loaded 2-core machine that took over 5 s.
    waitFor(predicate, timeoutMs = 15_000) {
      const found = sink.messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`smtp sink: no matching message within ${timeoutMs} ms (${sink.messages.length} received)`));
        }, timeoutMs);
        const check = (m: SinkMessage) => {
          if (!predicate(m)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        waiters.add(check);
      });
    },
    failNext(n, code = 451) {
      failures = n;
      failCode = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sink;
}

/** The first run of 6–10 digits in the text part: the one-time code. */
export function extractCode(m: Pick<SinkMessage, 'text'>): string {
  const match = /(?<!\d)\d{6,10}(?!\d)/.exec(m.text);
  if (!match) throw new Error(`no code in message text: ${JSON.stringify(m.text.slice(0, 200))}`);
  return match[0];
}

// Minimal MIME reading (no mailparser dependency): headers, multipart, quoted-printable, base64 and
// RFC 2047 encoded words, which is all nodemailer produces for our messages.
function parse(raw: string, to: string, user: string | undefined, secure: boolean): Omit<SinkMessage, 'session'> {
  const { headers } = split(raw);
  const parts = leaves(raw);
  const part = (type: string) => parts.find((p) => p.type === type)?.content ?? '';
  return { to, from: words(headers.get('from') ?? ''), subject: words(headers.get('subject') ?? ''), text: part('text/plain'), html: part('text/html'), raw, user, secure };
}

function split(entity: string): { headers: Map<string, string>; body: string } {
  const at = entity.indexOf('\r\n\r\n');
  const head = at < 0 ? entity : entity.slice(0, at);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: at < 0 ? '' : entity.slice(at + 4) };
}

function leaves(entity: string): { type: string; content: string }[] {
  const { headers, body } = split(entity);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const sections = body.split(`--${boundary}`).slice(1, -1);
    return sections.flatMap((s) => leaves(s.replace(/^\r\n/, '').replace(/\r\n$/, '')));
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  return [{ type, content: decode(body, encoding) }];
}

const qp = (s: string) => s.replace(/=\r?\n/g, '').replace(/(?:=[0-9A-F]{2})+/gi, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));

function decode(body: string, encoding: string): string {
  if (encoding === 'quoted-printable') return qp(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function words(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g, (_m, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replace(/_/g, ' ')),
    );
}
