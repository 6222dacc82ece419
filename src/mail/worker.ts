import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.ts';
import { makeLog } from '../core/logs.ts';
import type { MailDelivery } from '../services.ts';
import { OutageLog } from '../store/db-errors.ts';
import type { OutboxMessage, Store } from '../store/types.ts';
import { isPermanentFailure } from './providers/send.ts';
import { type MailTransport, TransportResolver } from './transport.ts';

const BATCH = 200;
const LEASE_MS = 60_000;
/**
 * A claimed message starts sending only while this much of its lease is left: the transport's
 * timeouts (connect + greeting 10 s, idle 20 s) end a send well before the lease does, so a row is
 * never leased to a second worker while the first may still deliver it.
 */
const SEND_BUDGET_MS = 30_000;
const STOP_WAIT_MS = 10_000;
/**
 * Crash recovery (issue 13 §3). Each worker beats every HEARTBEAT_MS; one silent for STALE_MS is
 * gone, and its claimed rows are taken over by the next claim anywhere (not after the 60 s lease).
 * A worker starts a send only while its own last beat is younger than SEND_FRESH_MS, well inside
 * STALE_MS, so while it may still send its rows are never taken: two live workers never send one row.
 */
const HEARTBEAT_MS = 1000;
const STALE_MS = 4000;
const SEND_FRESH_MS = 2000;
const MAX_BACKOFF_MS = 3_600_000;

interface Payload {
  from: string;
  subject: string;
  html: string;
  text: string;
}

type Outcome =
  | { kind: 'sent' }
  | { kind: 'failed'; error: string }
  /** Cannot succeed on a retry: given up at once. */
  | { kind: 'unsendable'; error: string }
  /** Not attempted (stopping, or too little lease left): released for the next claim. */
  | { kind: 'skipped' };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

/**
 * Durable delivery of the outbox (ARCHITECTURE.md, step 7): claims due rows under a lease, sends them
 * through a pooled transport, then marks them sent, schedules a retry with exponential backoff, or
 * gives up with an `fn` log. Rows survive restarts, and several workers (or instances) share one
 * outbox because `claimOutbox` never leases a row twice.
 */
export class MailWorker implements MailDelivery {
  readonly #store: Store;
  readonly #config: Config;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => number;
  readonly #transports: TransportResolver;
  #running = false;
  /** Bumped by start(): a loop that outlived a timed-out stop() must not run beside the new one. */
  #generation = 0;
  #loop: Promise<void> | undefined;
  #woken = false;
  #sleeper: { wakeable: boolean; end: () => void } | undefined;
  /** Earliest retry this worker scheduled: it sleeps no longer than that. */
  #nextRetryAt = Infinity;
  /** Sends whose mark failed (#markSent): recorded again before the next claim. */
  #unmarked: { ids: number[]; devMode: boolean }[] = [];
  /** An outbox that cannot be read poll after poll (an outage) is logged when it starts and ends. */
  readonly #outage: OutageLog;
  #markReady: () => void = () => {};
  /** See MailDelivery.ready: settled by the first cycle's transport choice, whatever its outcome. */
  readonly #ready = new Promise<void>((resolve) => (this.#markReady = resolve));
  /** This run's id in `delivery_workers` and on the rows it leases. */
  #owner = randomUUID();
  /** The (clock) time of this worker's last recorded heartbeat. */
  #beatAt = -Infinity;
  #beating: NodeJS.Timeout | undefined;
  /** Heartbeat writes in flight: stop() waits for them, or one could re-insert the retired row. */
  #beats = new Set<Promise<void>>();
  /** Set by stop() once this run's row is about to go: no heartbeat starts after it. */
  #retiring = false;

  constructor(deps: { store: Store; config: Config; log: FastifyBaseLogger; now?: () => number }) {
    this.#store = deps.store;
    this.#config = deps.config;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#transports = new TransportResolver(deps);
    this.#outage = new OutageLog(deps.log, 'mail worker');
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#owner = randomUUID();
    this.#beatAt = -Infinity;
    this.#retiring = false;
    // unref: like the poll, a heartbeat alone must not keep a process alive.
    this.#beating = setInterval(() => void this.#beat(), HEARTBEAT_MS).unref();
    this.#loop = this.#run(++this.#generation);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** Cheap and coalescing: wakes in one tick, or during a cycle, lead to one more claim. */
  wake(): void {
    this.#woken = true;
    if (this.#sleeper?.wakeable) this.#sleeper.end();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#sleeper?.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
    await Promise.race([this.#loop, late]);
    clearTimeout(timer);
    clearInterval(this.#beating);
    this.#retiring = true;
    await Promise.all(this.#beats);
    this.#transports.close();
    await this.#markUnmarked().catch((err: unknown) => {
      this.#log.error({ outbox_ids: this.#unmarked.flatMap((u) => u.ids), err: message(err) }, 'mail worker: sent messages could not be recorded; they will be sent again once their claims run out');
    });
    // Every row this run held is marked by now; without its row, nothing waits on this worker.
    await this.#store.retireWorker(this.#owner, this.#now()).catch(() => {});
  }

  /** Records that this worker is alive; a failure only lets the beat age (sends then pause). */
  async #beat(): Promise<void> {
    if (this.#retiring) return;
    const write = this.#writeBeat();
    this.#beats.add(write);
    try {
      await write;
    } finally {
      this.#beats.delete(write);
    }
  }

  async #writeBeat(): Promise<void> {
    const at = this.#now();
    try {
      await this.#store.heartbeatWorker(this.#owner, at);
      this.#beatAt = Math.max(this.#beatAt, at);
    } catch (err) {
      this.#log.warn({ err: message(err) }, 'mail worker: heartbeat failed');
    }
  }

  async #run(generation: number): Promise<void> {
    while (this.#running && generation === this.#generation) {
      this.#woken = false;
      let full = false;
      try {
        full = await this.#cycle();
        this.#outage.ok();
      } catch (err) {
        // A database hiccup must not end delivery (or the process): try again after a pause that
        // wakes cannot shorten, so a burst of requests does not turn the failure into a busy loop.
        this.#outage.failed(err);
        await this.#sleep(this.#config.mailPollMs, false);
        continue;
      }
      if (full || this.#woken || !this.#running) continue;
      // Outbox times follow the injectable clock, like the rows /passwordless/start writes.
      const untilRetry = Math.max(0, this.#nextRetryAt - this.#now());
      await this.#sleep(Math.min(this.#config.mailPollMs, untilRetry), true);
    }
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#sleeper = undefined;
        resolve();
      };
      // unref: a pending poll alone must not keep a process alive; unsent rows stay in the outbox.
      const timer = setTimeout(end, ms).unref();
      this.#sleeper = { wakeable, end };
    });
  }

  /** One claim and its sends; true when the batch was full (more rows are probably due). */
  async #cycle(): Promise<boolean> {
    // Resolved between batches, never during one: a provider change may close the previous pool.
    let transport: MailTransport;
    try {
      transport = await this.#transports.get();
    } finally {
      this.#markReady();
    }
    await this.#markUnmarked();
    const now = this.#now();
    if (now >= this.#nextRetryAt) this.#nextRetryAt = Infinity;
    // A claim hands out rows only while this worker's beat is fresh enough to send them.
    if (now - this.#beatAt >= HEARTBEAT_MS) await this.#beat();
    if (this.#now() - this.#beatAt > SEND_FRESH_MS) throw new Error('no recent heartbeat');
    const batch = await this.#store.claimOutbox(now, BATCH, LEASE_MS, { id: this.#owner, staleBefore: now - STALE_MS });
    if (batch.length === 0) return false;
    const startBy = now + LEASE_MS - SEND_BUDGET_MS;
    // As many sends in flight as pooled connections: each starts at once, so `startBy` holds. A
    // lane moves to its next message without waiting for the store to record the last outcome;
    // every record is awaited before the next claim (and before stop() returns).
    const records: Promise<void>[] = [];
    const sent: number[] = [];
    let next = 0;
    const lane = async () => {
      while (next < batch.length) {
        const m = batch[next++]!;
        const outcome = await this.#attempt(transport, m, startBy);
        if (outcome.kind === 'sent') sent.push(m.id);
        else records.push(this.#record(m, outcome));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#config.mailPoolSize, batch.length) }, lane));
    await Promise.all([...records, this.#markSent(sent, transport.mode === 'console')]);
    return batch.length === BATCH;
  }

  /**
   * Successes are recorded together, one write per batch instead of one per mail: on SQLite each
   * write takes the database lock the HTTP thread needs. A write that fails (the database restarting
   * under a batch) is kept and made again before the next claim, and at stop: the rows stay leased
   * to this worker meanwhile, so a blip no longer sends them twice a minute later. At-least-once
   * delivery remains, on purpose, for a process that dies between the sends and the mark: the
   * leases run out and those messages are sent once more, which beats losing a sign-in code.
   */
  async #markSent(ids: number[], devMode: boolean): Promise<void> {
    if (ids.length === 0) return;
    try {
      // Development console: the message is kept for the dashboard's dev outbox (issue 12).
      await this.#store.markSentMany(ids, devMode);
    } catch (err) {
      this.#unmarked.push({ ids, devMode });
      this.#log.warn({ outbox_ids: ids, err: message(err) }, 'mail worker: recording sent messages failed; recording them again before the next claim');
    }
  }

  /** Records the sends of earlier batches whose mark failed; throws (ending the cycle) while the store still fails. */
  async #markUnmarked(): Promise<void> {
    while (this.#unmarked.length) {
      const { ids, devMode } = this.#unmarked[0]!;
      await this.#store.markSentMany(ids, devMode);
      this.#unmarked.shift();
      this.#log.info({ outbox_ids: ids }, 'mail worker: sent messages recorded on a later try');
    }
  }

  /** Sends one message; never throws. */
  async #attempt(transport: MailTransport, m: OutboxMessage, startBy: number): Promise<Outcome> {
    // Hand the row back rather than send it late (or let its lease run out: a minute of delay).
    if (!this.#running || this.#now() > startBy || this.#now() - this.#beatAt > SEND_FRESH_MS) return { kind: 'skipped' };
    let payload: Payload;
    try {
      payload = JSON.parse(m.payload) as Payload;
    } catch {
      return { kind: 'unsendable', error: 'unreadable payload' };
    }
    try {
      await transport.send({ to: m.recipient, ...payload, from: payload.from || this.#config.emailFrom });
      return { kind: 'sent' };
    } catch (err) {
      // An API provider's 401 or 400 (wrong key, refused request) fails the same way every time.
      return { kind: isPermanentFailure(err) ? 'unsendable' : 'failed', error: message(err) };
    }
  }

  /** Records a message that was not sent (successes go through #markSent). */
  async #record(m: OutboxMessage, o: Exclude<Outcome, { kind: 'sent' }>): Promise<void> {
    try {
      if (o.kind === 'failed') await this.#failed(m, o.error);
      else if (o.kind === 'unsendable') await this.#giveUp(m, o.error);
      else await this.#store.markRetry(m.id, m.attempts, this.#now(), 'not attempted: worker stopping or lease running out');
    } catch (err) {
      // The row's lease runs out and it is claimed again.
      this.#log.error({ outbox_id: m.id, err: message(err) }, 'mail worker: recording the outcome failed');
    }
  }

  async #failed(m: OutboxMessage, error: string): Promise<void> {
    const attempts = m.attempts + 1;
    if (attempts >= this.#config.mailMaxAttempts) return this.#giveUp(m, error);
    const retryAt = this.#now() + Math.min(this.#config.mailRetryBaseMs * 2 ** m.attempts, MAX_BACKOFF_MS);
    this.#nextRetryAt = Math.min(this.#nextRetryAt, retryAt);
    // The outbox id, never the payload: it holds the code.
    this.#log.warn({ outbox_id: m.id, attempts, err: error }, 'email delivery failed; will retry');
    await this.#store.markRetry(m.id, attempts, retryAt, error);
  }

  async #giveUp(m: OutboxMessage, error: string): Promise<void> {
    const { client_id, client_name, connection, email_type } = m.meta;
    const now = this.#now();
    const log = makeLog('fn', null, {
      description: 'Failed Sending Notification',
      ...(client_id ? { client_id } : {}),
      ...(client_name ? { client_name } : {}),
      ...(connection ? { connection } : {}),
      details: { email_type: email_type ?? 'passwordless', notification_type: 'email', to: m.recipient, error },
    }, now);
    this.#log.error({ outbox_id: m.id, attempts: m.attempts + 1, err: error }, 'email delivery failed; giving up');
    await this.#store.markFailed(m.id, m.attempts + 1, error, log);
  }
}
