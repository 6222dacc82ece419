import { randomInt } from 'node:crypto';
import type { Services } from '../services.ts';
import type { CodeKey, CodeRecord } from '../store/types.ts';
import { type RelayDoc, artifactId } from './artifacts.ts';

/**
 * Relay codes (issue 3 §4): a magic link bound to the browser that asked for it, opened on another
 * device, shows a short code that the user types into the original tab, which then finishes the
 * sign-in there. The relay never signs anyone in on the other device.
 */

/**
 * Issue 3 fixes the alphabet as A–Z and 2–9: 34 symbols, 6 of them ≈ 30.5 bits. Leaving out 0 and 1
 * already removes the worst confusables (O/0, I/1); with 3 tries per relay and one relay per
 * transaction, a guess succeeds with probability 3/34⁶ ≈ 2·10⁻⁹.
 */
export const RELAY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789';
export const RELAY_LENGTH = 6;
/** Tries per relay code, as for a one-time code (spec §3.2). */
export const RELAY_MAX_ATTEMPTS = 3;

const PURPOSE = 'relay';
/** The relay code is bound to its transaction: the same code for another transaction is another hash. */
const material = (txId: string, code: string) => `${txId}\0${code}`;

export const relayId = (s: Pick<Services, 'keyring'>, txId: string): string => artifactId(s, 'relay', txId);

/** `ABC-DEF`, as shown on the other device. */
export const formatRelay = (code: string): string => `${code.slice(0, 3)}-${code.slice(3)}`;

/**
 * What the user typed, as the code would be stored: upper case, without spaces or dashes. 0 and 1
 * are never in a code, so a typed 0 or 1 can only mean the letter O or I that it looks like.
 */
export function normaliseRelay(input: string): string {
  return input.toUpperCase().replace(/[\s\-‐‑‒–—]/g, '').replace(/0/g, 'O').replace(/1/g, 'I');
}

/**
 * A new relay code for the transaction `txId`, replacing any earlier one (one per transaction, so
 * opening the link again on the other device restarts the 3 tries with a fresh code). It expires
 * with the link's code and remembers which code record to consume when it is redeemed.
 */
export async function createRelay(s: Services, txId: string, record: CodeRecord): Promise<string> {
  let code = '';
  // randomInt rejects biased draws: every symbol is equally likely.
  for (let i = 0; i < RELAY_LENGTH; i++) code += RELAY_ALPHABET[randomInt(RELAY_ALPHABET.length)];
  const key: CodeKey = { connection_id: record.connection_id, identifier: record.identifier, client_id: record.client_id };
  const doc: RelayDoc = { tx_hash: txId, code_key: key, code_hash: record.code_hash, relay_hash: s.keyring.hash(PURPOSE, material(txId, code)) };
  await s.store.putArtifact({ kind: 'relay', id: relayId(s, txId), family: null, doc, expires_at: record.expires_at });
  return code;
}

export type RedeemResult =
  /** The link's code was consumed by this call (exactly one caller can get this). */
  | { ok: true; key: CodeKey }
  /** Wrong code; `remaining` tries are left (0: the relay is dead now). */
  | { ok: false; reason: 'wrong'; remaining: number }
  /** No live relay: never created, expired with the link, 3 tries used, or already redeemed. */
  | { ok: false; reason: 'dead' }
  /** The relay was right but its link can no longer be used (used elsewhere, or a newer link was sent). */
  | { ok: false; reason: 'used' };

/**
 * Redeems a relay code typed in the original tab. The attempt is counted before the comparison, in
 * one statement (`takeArtifactAttempt`), so however many guesses race, at most 3 comparisons happen;
 * the comparison is constant-time; the link's code is consumed atomically, so a relay and the link
 * itself (or two relay submissions) cannot both win.
 */
export async function redeemRelay(s: Services, txId: string, input: string): Promise<RedeemResult> {
  const code = normaliseRelay(input);
  const id = relayId(s, txId);
  const relay = await s.store.takeArtifactAttempt<RelayDoc>('relay', id, RELAY_MAX_ATTEMPTS, s.now());
  if (!relay) return { ok: false, reason: 'dead' };
  // Malformed input still spent its try: it is a guess like any other.
  const right = code.length === RELAY_LENGTH && s.keyring.verify(PURPOSE, material(txId, code), relay.doc.relay_hash);
  if (!right) return { ok: false, reason: 'wrong', remaining: Math.max(0, RELAY_MAX_ATTEMPTS - relay.attempts) };
  // Single use: whoever consumes the link's code wins; the relay goes with it.
  const consumed = await s.store.consumeCode(relay.doc.code_key, relay.doc.code_hash);
  await s.store.deleteArtifact('relay', id);
  return consumed ? { ok: true, key: relay.doc.code_key } : { ok: false, reason: 'used' };
}
