import type { FastifyBaseLogger } from 'fastify';
import type { Background } from './background.ts';
import type { Config } from './config/schema.ts';
import type { Keyring } from './core/crypto.ts';
import type { KeyManager } from './core/keys.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { Store } from './store/types.ts';

/** Starts and stops outbound mail delivery; `wake` signals that a message was just enqueued. */
export interface MailDelivery {
  start(): void;
  /**
   * Settles once the delivery, after start(), has chosen its transport (or failed to reach the
   * database trying): whatever it logs about that, development mode above all, is out by then. The
   * start command prints its banner after it, so that the banner stays one block (issue 11).
   */
  ready(): Promise<void>;
  wake(): void;
  /** Finishes the batch in flight, then stops; unsent rows stay in the outbox for the next start. */
  stop(): Promise<void>;
}

/** Everything a route or a core function may use; built once by buildApp. */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly keys: KeyManager;
  readonly log: FastifyBaseLogger;
  mail: MailDelivery;
  /** Jobs started by listen(); stopped between the HTTP drain and closing the store. */
  readonly background: Background;
  /** The issuer: the configured one, or derived from the bound port after listen() on port 0. */
  issuer: string;
  /** Injectable clock (epoch ms) so tests can move time. */
  now(): number;
  /** Prometheus counters (issue 13 §4); undefined unless SESAME_METRICS or SESAME_METRICS_PORT. */
  readonly metrics?: Metrics;
}
