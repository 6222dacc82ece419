import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Keys derived from SESAME_SECRET (and, during a rotation, SESAME_SECRET_PREVIOUS), one per purpose
 * with HKDF (RFC 5869), so a leak or misuse of one use does not weaken another (issue 10 §3).
 *
 * Every secret has a short public key id (an HKDF output, not the secret), written into what it
 * produces, so a reader knows which secret to use and `sesame secrets reseal` can count what is
 * still bound to an older one:
 *
 *   sealed   v2.<kid>.<iv>.<tag>.<ciphertext>   AES-256-GCM, key per purpose, the context as AAD
 *   hashed   <kid>.<hex HMAC-SHA256>            OTPs, client secrets, artifact ids
 *
 * Rows written before key ids existed (`v1.<iv>.<tag>.<ct>` with one AES key and no AAD, and bare
 * hex hashes) are still read: with every configured secret in turn.
 */

/** A ciphertext that does not open: wrong secret, wrong context (another row or purpose), or tampered. */
export class SealError extends Error {}

const IV_BYTES = 12;
/** GCM tags are pinned to the full 128 bits: a shorter tag in a stored value is refused (NIST SP 800-38D §5.2.1.2). */
const TAG_BYTES = 16;
const SALT = 'sesame';

interface Key {
  id: string;
  hmac: Buffer;
  /** The single AES key of the v1 format (no key id, no AAD). */
  legacyEnc: Buffer;
  /** AES keys per purpose, derived on first use. */
  enc: Map<string, Buffer>;
  secret: string;
}

const derive = (secret: string, info: string, bytes: number) => Buffer.from(hkdfSync('sha256', secret, SALT, info, bytes));

/** The public id of a secret: 48 bits of HKDF output, base64url (8 characters). */
export const keyIdOf = (secret: string): string => derive(secret, 'key-id-v1', 6).toString('base64url');

function makeKey(secret: string): Key {
  return {
    id: keyIdOf(secret),
    secret,
    // Same derivation as before key ids, so bare hex hashes and v1 ciphertexts of this secret still match.
    hmac: derive(secret, 'hmac-v1', 32),
    legacyEnc: derive(secret, 'aes-256-gcm-v1', 32),
    enc: new Map(),
  };
}

/** `signing:<kid>` → `signing`: the purpose selects the key, the whole context is the AAD. */
const purposeOf = (context: string) => context.split(':', 1)[0]!;

export class Keyring {
  readonly #keys: Key[];

  /** `secret` seals and hashes; `previous` secrets (newest first) only open and verify. */
  constructor(secret: string, previous: readonly string[] = []) {
    const keys = [secret, ...previous].map(makeKey);
    this.#keys = keys.filter((k, i) => keys.findIndex((o) => o.id === k.id) === i);
  }

  /** The current secret's key id. */
  get keyId(): string {
    return this.#keys[0]!.id;
  }

  /** Key ids of the previous secrets, newest first. */
  get previousKeyIds(): string[] {
    return this.#keys.slice(1).map((k) => k.id);
  }

  // keyed hashes -----------------------------------------------------------------------------------

  #hex(key: Key, purpose: string, value: string): string {
    return createHmac('sha256', key.hmac).update(purpose).update('\0').update(value).digest('hex');
  }

  /** Keyed hash under the current secret: `<kid>.<hex HMAC-SHA256>` over a purpose-tagged message. */
  hash(purpose: string, value: string): string {
    const key = this.#keys[0]!;
    return `${key.id}.${this.#hex(key, purpose, value)}`;
  }

  /**
   * Every form `value` may be stored under, current first: for lookups by hash (artifact ids),
   * where the stored value cannot be read before it is found.
   */
  hashCandidates(purpose: string, value: string): string[] {
    const hexes = this.#keys.map((k) => this.#hex(k, purpose, value));
    return [...this.#keys.map((k, i) => `${k.id}.${hexes[i]}`), ...hexes];
  }

  /** Constant-time comparison of `value` against a stored keyed hash of any configured secret. */
  verify(purpose: string, value: string, stored: string): boolean {
    const dot = stored.indexOf('.');
    if (dot >= 0) {
      const key = this.#keys.find((k) => k.id === stored.slice(0, dot));
      return key !== undefined && hexEqual(this.#hex(key, purpose, value), stored.slice(dot + 1));
    }
    // A bare hex hash predates key ids: any configured secret may have made it.
    let ok = false;
    for (const key of this.#keys) ok = hexEqual(this.#hex(key, purpose, value), stored) || ok;
    return ok;
  }

  /** True when a stored hash or sealed value was made with the current secret (nothing to redo). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${this.keyId}.`) || stored.startsWith(`v2.${this.keyId}.`);
  }

  // encryption at rest -----------------------------------------------------------------------------

  #encKey(key: Key, purpose: string): Buffer {
    let k = key.enc.get(purpose);
    if (!k) {
      k = derive(key.secret, `aes-256-gcm-v2:${purpose}`, 32);
      key.enc.set(purpose, k);
    }
    return k;
  }

  /**
   * AES-256-GCM under the current secret's key for the context's purpose, the context (`signing:<kid>`,
   * `sms:twilio:<connection id>`, `smtp`, `stream:<id>`) as associated data: the ciphertext opens
   * only for that purpose and row.
   */
  seal(context: string, plain: string): string {
    const key = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.#encKey(key, purposeOf(context)), iv, { authTagLength: TAG_BYTES });
    c.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v2', key.id, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  /** Opens what `seal(context, …)` made with any configured secret, or a v1 value; throws SealError otherwise. */
  open(context: string, sealed: string): string {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.#keys.find((k) => k.id === parts[1]);
      if (!key) throw new SealError(`sealed with an unknown secret (key id ${parts[1]}): set SESAME_SECRET_PREVIOUS`);
      const plain = gcmOpen(this.#encKey(key, purposeOf(context)), parts[2]!, parts[3]!, parts[4]!, context);
      if (plain === undefined) throw new SealError(`cannot open a value sealed for another purpose or row than ${purposeOf(context)}, or tampered`);
      return plain;
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      // Before key ids and associated data: one key per secret, tried in turn.
      for (const key of this.#keys) {
        const plain = gcmOpen(key.legacyEnc, parts[1]!, parts[2]!, parts[3]!, undefined);
        if (plain !== undefined) return plain;
      }
      throw new SealError('cannot open a v1 value with any configured secret');
    }
    throw new SealError('unknown sealed format');
  }
}

function hexEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function gcmOpen(key: Buffer, iv64: string, tag64: string, ct64: string, aad: string | undefined): string | undefined {
  const iv = Buffer.from(iv64, 'base64url');
  const tag = Buffer.from(tag64, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    if (aad !== undefined) d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(ct64, 'base64url')), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
