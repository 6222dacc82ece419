import { randomInt } from 'node:crypto';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createTemplateEngine, type EmailOptions, MailWorker, renderEmail } from '../../src/mail/index.ts';
import type { Store } from '../../src/store/types.ts';
import type { Backend, Db } from './mail-backends.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

/** Shared by the mail worker tests: config, enqueueing as /passwordless/start does, log capture. */

export const META = { client_id: 'cid_mail', client_name: 'Acme', connection: 'email' };
const engine = createTemplateEngine();

/** Retries every 20 ms and polls every 50 ms so outage scenarios play out in milliseconds. */
export const configFor = (smtpUrl: string | undefined, env: Record<string, string> = {}): Config =>
  loadConfig({ SESAME_SMTP_URL: smtpUrl, SESAME_MAIL_RETRY_BASE_MS: '20', SESAME_MAIL_POLL_MS: '50', SESAME_MAIL_MAX_ATTEMPTS: '4', ...env }, {});

/** Renders like /passwordless/start does and enqueues; returns the code that must reach the inbox. */
export async function enqueue(store: Store, to: string, appName = 'Acme', email?: EmailOptions): Promise<string> {
  const code = String(randomInt(1_000_000)).padStart(6, '0');
  const vars = { code, send: 'code' as const, application: { name: appName }, connection: { name: 'email' }, email: to, expires_in_minutes: 3 };
  const rendered = await renderEmail(engine, email, vars, 'Acme <no-reply@acme.test>');
  await store.enqueue({ channel: 'email', recipient: to, payload: JSON.stringify(rendered), meta: META });
  return code;
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const silent = (): FastifyBaseLogger => pino({ level: 'silent' });

/** A logger that keeps every line (JSON), to assert what was and was not logged. */
export function captureLog(): { log: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** Per-test resources, released in reverse order whatever the outcome. */
export function harness(t: TestContext, backend: Backend) {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  return {
    async db(durable = false): Promise<Db> {
      const db = await backend.open(durable);
      cleanups.push(() => db.dispose());
      return db;
    },
    async sink(opts?: Parameters<typeof startSmtpSink>[0]): Promise<SmtpSink> {
      const s = await startSmtpSink(opts);
      cleanups.push(() => s.close());
      return s;
    },
    worker(store: Store, config: Config, log = silent()): MailWorker {
      const w = new MailWorker({ store, config, log });
      cleanups.push(() => w.stop());
      w.start();
      return w;
    },
  };
}
