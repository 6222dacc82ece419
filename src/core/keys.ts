import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject, sign as rsaSign } from 'node:crypto';
import { type JWK, type JWTPayload, exportJWK, generateKeyPair } from 'jose';
import type { SigningKeyRecord, Store } from '../store/types.ts';
import type { Keyring } from './crypto.ts';
import { randomId } from './crypto.ts';
import { keyCertificate } from './key-cert.ts';

interface LoadedKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  /** base64url of the protected header, per `typ` ('' = none): it never changes for a key. */
  headers: Map<string, string>;
}

/** A key as the Management API shows it (Auth0's `/api/v2/keys/signing` shape), without secrets. */
export interface SigningKeyView {
  kid: string;
  cert: string;
  pkcs7: string;
  fingerprint: string;
  thumbprint: string;
  current: boolean;
  next: boolean;
  previous: boolean;
  revoked: boolean;
  current_since?: string;
  current_until?: string;
  revoked_at?: string;
}

/**
 * How stale another process's key set may be here: a rotation or revocation made by one process is
 * used for signing and verification by every other one at most this long (plus one store read) later.
 */
export const KEY_FRESHNESS_MS = 1000;

/** The AAD of a private key at rest (issue 10 §3): it opens only as the key it was sealed for. */
export const signingContext = (kid: string) => `signing:${kid}`;

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const PUBLISHED: ReadonlySet<string> = new Set(['current', 'next', 'previous']);

/**
 * Signing keys: RS256, `kid` in every header, private halves encrypted at rest (spec §10.3), with
 * Auth0's lifecycle (issue 4 §4): a `current` key signs, a `next` key is already published so
 * verifiers that cache the JWKS know it before a rotation promotes it, `previous` keys keep
 * verifying tokens they signed until revoked.
 */
export class KeyManager {
  #current: LoadedKey | undefined;
  #published: JWK[] = [];
  /** kid:status list of the loaded set, to keep the same JWKS array (and importers' caches) when nothing changed. */
  #shape = '';
  #version: number | undefined;
  #checkedAt = 0;
  #checking: Promise<void> | undefined;
  readonly #certs = new Map<string, ReturnType<typeof keyCertificate>>();
  readonly #store: Store;
  readonly #keyring: Keyring;

  constructor(store: Store, keyring: Keyring) {
    this.#store = store;
    this.#keyring = keyring;
  }

  /** Loads the keys, creating the current and the next key when missing (a new or older database). */
  async init(): Promise<void> {
    let records = await this.#store.listSigningKeys();
    for (const status of ['current', 'next'] as const) {
      // insertSigningKey keeps one key per status even when several processes start together.
      if (!records.some((r) => r.status === status)) await this.#store.insertSigningKey(await this.#generate(status, Date.now()));
    }
    const version = await this.#readVersion();
    records = await this.#store.listSigningKeys();
    this.#load(records);
    this.#version = version;
    this.#checkedAt = Date.now();
  }

  /** The published keys: current, next and previous (revoked keys are gone). May lag by KEY_FRESHNESS_MS. */
  jwks(): { keys: JWK[] } {
    if (Date.now() - this.#checkedAt >= KEY_FRESHNESS_MS) void this.refresh();
    return { keys: this.#published };
  }

  /** Public key of the current signing key (tests verify with it). */
  currentPublicKey(): KeyObject {
    return createPublicKey({ key: this.#current!.publicJwk as never, format: 'jwk' });
  }

  /**
   * Picks up a rotation or revocation made by any process: at most once per KEY_FRESHNESS_MS one
   * read of the store's version marker, and a reload only when it moved. Concurrent callers share
   * the check. A failing read keeps the loaded keys (the next call retries) rather than failing
   * every token request on a transient store error.
   */
  refresh(): Promise<void> {
    if (Date.now() - this.#checkedAt < KEY_FRESHNESS_MS) return Promise.resolve();
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    this.#checkedAt = Date.now();
    try {
      const version = await this.#readVersion();
      if (version !== undefined && version === this.#version) return;
      this.#load(await this.#store.listSigningKeys());
      this.#version = version;
    } catch {
      // Kept keys; retried after KEY_FRESHNESS_MS (see above).
    }
  }

  async #readVersion(): Promise<number | undefined> {
    try {
      return await this.#store.signingKeysVersion();
    } catch {
      return undefined; // unknown: the next check reloads
    }
  }

  /**
   * Auth0's rotation: next → current, current → previous (tokens it signed keep verifying), and a
   * new next key; one store transaction. Returns the new current key's kid.
   */
  async rotate(): Promise<string> {
    const now = Date.now();
    let rotated = await this.#store.rotateSigningKeys(await this.#generate('next', now), now);
    if (!rotated) {
      // No next key (removed by hand): create one, then rotate as usual.
      await this.#store.insertSigningKey(await this.#generate('next', now));
      rotated = await this.#store.rotateSigningKeys(await this.#generate('next', now), now);
      if (!rotated) throw new Error('signing key rotation found no next key');
    }
    await this.#reload();
    return this.#current!.kid;
  }

  /** Revokes a previous key (Auth0 refuses current and next keys): false if `kid` is not a previous key. */
  async revoke(kid: string): Promise<boolean> {
    const done = await this.#store.revokeSigningKey(kid, Date.now());
    await this.#reload();
    return done;
  }

  /** Every key in Auth0's Management API shape, oldest first. `cn` names the certificates' subject. */
  async describe(cn: string): Promise<SigningKeyView[]> {
    const records = await this.#store.listSigningKeys();
    return records.map((r) => this.#view(r, cn));
  }

  #view(r: SigningKeyRecord, cn: string): SigningKeyView {
    let c = this.#certs.get(r.kid);
    if (!c) {
      // Deterministic (serial from kid, dates from created_at, PKCS#1 v1.5 signature): every process
      // and every call shows the same certificate and fingerprint for a key.
      const jwk = JSON.parse(this.#keyring.open(signingContext(r.kid), r.private_jwk_enc)) as JWK;
      c = keyCertificate(createPrivateKey({ key: jwk as never, format: 'jwk' }), r.kid, cn, Number(r.created_at));
      this.#certs.set(r.kid, c);
    }
    const sha1 = new X509Certificate(c.der).fingerprint;
    const date = (ms: number | null | undefined) => (ms == null ? undefined : new Date(Number(ms)).toISOString());
    return {
      kid: r.kid,
      cert: c.pem,
      pkcs7: c.pkcs7,
      fingerprint: sha1,
      thumbprint: sha1.replaceAll(':', ''),
      current: r.status === 'current',
      next: r.status === 'next',
      previous: r.status === 'previous',
      revoked: r.status === 'revoked',
      ...(date(r.current_since) ? { current_since: date(r.current_since) } : {}),
      ...(date(r.current_until) ? { current_until: date(r.current_until) } : {}),
      ...(date(r.revoked_at) ? { revoked_at: date(r.revoked_at) } : {}),
    };
  }

  /** After a change made here: this process uses it at once, not after KEY_FRESHNESS_MS. */
  async #reload(): Promise<void> {
    await this.#checking;
    this.#checkedAt = 0;
    this.#version = undefined;
    await this.refresh();
  }

  async #generate(status: 'current' | 'next', now: number): Promise<SigningKeyRecord> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const kid = randomId(22);
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    return {
      kid,
      alg: 'RS256',
      private_jwk_enc: this.#keyring.seal(signingContext(kid), JSON.stringify(await exportJWK(privateKey))),
      public_jwk: JSON.stringify(pub),
      created_at: now,
      status,
      current_since: status === 'current' ? now : null,
    };
  }

  #load(records: SigningKeyRecord[]): void {
    const published = records.filter((r) => PUBLISHED.has(r.status));
    const shape = published.map((r) => `${r.kid}:${r.status}`).join(',');
    if (shape === this.#shape) return;
    const cur = records.filter((r) => r.status === 'current').at(-1);
    if (!cur) throw new Error('no current signing key');
    // sign() implements RS256 (RSASSA-PKCS1-v1_5 with SHA-256) only, the one algorithm keys are made with.
    if (cur.alg !== 'RS256') throw new Error(`signing key ${cur.kid}: unsupported alg ${cur.alg}`);
    if (this.#current?.kid !== cur.kid) {
      const jwk = JSON.parse(this.#keyring.open(signingContext(cur.kid), cur.private_jwk_enc)) as JWK;
      this.#current = {
        kid: cur.kid,
        alg: cur.alg,
        privateKey: createPrivateKey({ key: jwk as never, format: 'jwk' }),
        publicJwk: JSON.parse(cur.public_jwk) as JWK,
        headers: new Map(),
      };
    }
    this.#published = published.map((r) => JSON.parse(r.public_jwk) as JWK);
    this.#shape = shape;
  }

  /**
   * A JWS compact serialisation (RFC 7515 §7.1) signed with node:crypto's callback form, which runs
   * the RSA operation on the libuv threadpool: the event loop only builds two base64url strings.
   * jose's SignJWT goes through WebCrypto (key conversion, promise plumbing) for the same result at
   * several times the main-thread cost. Tokens are still verified with jose everywhere. Once per
   * KEY_FRESHNESS_MS a call first checks the store for a rotation (one cheap read).
   */
  sign(payload: JWTPayload, typ?: string): Promise<string> {
    if (!this.#current) return Promise.reject(new Error('KeyManager.init() was not called'));
    if (Date.now() - this.#checkedAt >= KEY_FRESHNESS_MS) return this.refresh().then(() => signWith(this.#current!, payload, typ));
    return signWith(this.#current, payload, typ);
  }
}

function signWith(k: LoadedKey, payload: JWTPayload, typ: string | undefined): Promise<string> {
  const input = `${header(k, typ ?? '')}.${b64url(JSON.stringify(payload))}`;
  return new Promise((resolve, reject) => {
    rsaSign('sha256', Buffer.from(input, 'latin1'), k.privateKey, (err, sig) => {
      if (err) reject(err);
      else resolve(`${input}.${sig.toString('base64url')}`);
    });
  });
}

function header(k: LoadedKey, typ: string): string {
  let h = k.headers.get(typ);
  if (h === undefined) {
    h = b64url(JSON.stringify({ alg: k.alg, kid: k.kid, ...(typ ? { typ } : {}) }));
    k.headers.set(typ, h);
  }
  return h;
}
