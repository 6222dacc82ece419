import type { LogEvent } from '../core/model.ts';
import type { LoginBlockFilter } from './types.ts';

/** An identifier (as normalised at verification or start) on one connection (its name), from any IP. */
export interface IdentifierKey {
  identifier: string;
  connection: string;
}

/**
 * Failed verifications of one identifier across every IP (issue 10 §2): from the `threshold`-th
 * failure on, each failure delays the next guess by a growing wait (`baseMs`, doubled per failure,
 * at most `maxMs`). A success, or `decayMs` without failure once no wait runs, starts over.
 */
export interface BackoffPolicy {
  threshold: number;
  baseMs: number;
  maxMs: number;
  decayMs: number;
}

export type GuessAdmission =
  /** A wait runs until `retryAt` (epoch ms): the guess must stop before the code is looked at. */
  | { admitted: false; retryAt: number }
  /**
   * `charged`: the identifier is in back-off and this guess was counted as a failure up front (and
   * set the next wait), so exactly one guess gets through per wait however many race; a success
   * clears it. `failures`: the count before this guess (0: nothing to clear on success).
   */
  | { admitted: true; charged: boolean; failures: number };

export interface IdentifierFailureOutcome {
  failures: number;
  /** Epoch ms, or null while under the threshold. */
  blockedUntil: number | null;
  /** This failure reached the threshold (exactly one concurrent failure does) and wrote the log. */
  tripped: boolean;
}

/** A running identifier-wide limit, for `/api/v2/user-blocks` (no `ip`: it holds for every IP). */
export interface IdentifierBlock extends IdentifierKey {
  kind: 'failures' | 'starts';
  /** Epoch ms. */
  blocked_until: number;
}

/** The store's side of src/core/identifier-limits.ts; every counter is one atomic statement. */
export interface IdentifierLimitsStore {
  /** Atomic: refuses while a wait runs; in back-off, charges the guess as a failure (one UPDATE … RETURNING). */
  admitGuess(key: IdentifierKey, now: number, policy: BackoffPolicy): Promise<GuessAdmission>;
  /** Counts one failure (one UPSERT) and, only for the one that reaches the threshold, appends `tripLog`. */
  recordIdentifierFailure(key: IdentifierKey, now: number, policy: BackoffPolicy, tripLog?: LogEvent): Promise<IdentifierFailureOutcome>;
  /** A proven code: the identifier's failures and wait are forgotten. */
  clearIdentifierFailures(key: IdentifierKey): Promise<void>;
  /** Marks that a start cap refuses the identifier until `until`; true (and `tripLog` appended) only if it was not already marked. */
  markStartsCapped(key: IdentifierKey, until: number, now: number, tripLog?: LogEvent): Promise<boolean>;
  listIdentifierBlocks(filter: LoginBlockFilter, now: number): Promise<IdentifierBlock[]>;
  /** Removes the identifiers' rows, and the window events (`windowKeys`) of each start cap removed. */
  clearIdentifierBlocks(filter: LoginBlockFilter, windowKeys: (key: IdentifierKey) => string[]): Promise<number>;
}
