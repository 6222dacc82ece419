import { after, before } from 'node:test';
import type { Backend } from './backends.ts';
import { type TestServer, bootServer } from './boot.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

/** What `useMailServer` hands a suite; `server` and `sink` exist from its `before` on. */
export interface MailServer {
  readonly server: TestServer;
  readonly sink: SmtpSink;
  /**
   * Milliseconds added to the server's clock (with `clock: true`), so expiry is tested without
   * waiting. Tests that move it put it back to 0 when done.
   */
  skew: number;
}

/**
 * Registers, in the current `describe`, a `before` that starts a real SMTP sink and boots Sesame
 * delivering to it (mail polled every 50 ms, the per-IP start limit off) and an `after` that closes
 * both. `env` adds or overrides SESAME_* variables.
 *
 * `clock: true` gives the server the clock `Date.now() + skew`. Without it the server keeps real
 * time, and so its mail thread: an injected clock makes mail delivery run in-process
 * (src/mail/thread.ts), so only suites that move the clock ask for one.
 */
export function useMailServer(backend?: Backend, opts: { env?: Record<string, string>; clock?: boolean } = {}): MailServer {
  let server: TestServer | undefined;
  let sink: SmtpSink | undefined;
  let skew = 0;
  before(async () => {
    sink = await startSmtpSink();
    server = await bootServer({
      backend,
      ...(opts.clock ? { now: () => Date.now() + skew } : {}),
      env: { SESAME_SMTP_URL: sink.url, SESAME_MAIL_POLL_MS: '50', SESAME_START_LIMIT_PER_HOUR: '0', ...opts.env },
    });
  });
  after(async () => {
    await server?.close();
    await sink?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('useMailServer: the server is booted in before()');
      return server;
    },
    get sink() {
      if (!sink) throw new Error('useMailServer: the SMTP sink is started in before()');
      return sink;
    },
    get skew() {
      return skew;
    },
    set skew(ms: number) {
      if (!opts.clock) throw new Error('useMailServer: pass { clock: true } to move the server clock');
      skew = ms;
    },
  };
}

/**
 * Every message the server has ever queued, whatever the mail worker has done with it since: tests
 * compare it before and after a request to show that nothing was sent, without waiting for mail
 * that should not come.
 */
export async function queuedMessages(server: TestServer): Promise<number> {
  const { store } = server.services;
  const once = async () => (await Promise.all((['pending', 'sent', 'failed'] as const).map((status) => store.countOutbox(status)))).reduce((a, b) => a + b, 0);
  // Three counts are three statements (on PostgreSQL, three snapshots): a row the mail worker marks
  // sent between them can be counted as pending and as sent (a full run saw 7 for 6). Rows only
  // move forward, so two readings in a row that agree are the total.
  for (let last = await once(); ;) {
    const now = await once();
    if (now === last) return now;
    last = now;
  }
}
