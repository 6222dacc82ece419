import { createPrivateKey, createPublicKey, type KeyObject, sign as rsaSign } from 'node:crypto';
import { type JWK, type JWTPayload, exportJWK, generateKeyPair } from 'jose';
import type { Store } from '../store/types.ts';
import type { Keyring } from './crypto.ts';
import { randomId } from './crypto.ts';

interface LoadedKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  /** base64url of the protected header, per `typ` ('' = none): it never changes for a key. */
  headers: Map<string, string>;
}

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Signing keys: RS256, `kid` in every header, private halves encrypted at rest (spec §10.3). */
export class KeyManager {
  #current: LoadedKey | undefined;
  #published: JWK[] = [];
  readonly #store: Store;
  readonly #keyring: Keyring;

  constructor(store: Store, keyring: Keyring) {
    this.#store = store;
    this.#keyring = keyring;
  }

  /** Loads the keys, creating the first one on a new database. */
  async init(): Promise<void> {
    let records = await this.#store.listSigningKeys();
    if (!records.some((r) => r.status === 'current')) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const kid = randomId(22);
      const pub = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      await this.#store.insertSigningKey({
        kid,
        alg: 'RS256',
        private_jwk_enc: this.#keyring.encrypt(JSON.stringify(await exportJWK(privateKey))),
        public_jwk: JSON.stringify(pub),
        created_at: Date.now(),
        status: 'current',
      });
      records = await this.#store.listSigningKeys();
    }
    this.#published = records.filter((r) => r.status !== 'revoked').map((r) => JSON.parse(r.public_jwk) as JWK);
    const cur = records.filter((r) => r.status === 'current').at(-1)!;
    // sign() implements RS256 (RSASSA-PKCS1-v1_5 with SHA-256) only, the one algorithm keys are made with.
    if (cur.alg !== 'RS256') throw new Error(`signing key ${cur.kid}: unsupported alg ${cur.alg}`);
    const jwk = JSON.parse(this.#keyring.decrypt(cur.private_jwk_enc)) as JWK;
    this.#current = {
      kid: cur.kid,
      alg: cur.alg,
      privateKey: createPrivateKey({ key: jwk as never, format: 'jwk' }),
      publicJwk: JSON.parse(cur.public_jwk) as JWK,
      headers: new Map(),
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#published };
  }

  /** Public key of the current signing key (tests and userinfo verify with it). */
  currentPublicKey(): KeyObject {
    return createPublicKey({ key: this.#current!.publicJwk as never, format: 'jwk' });
  }

  /**
   * A JWS compact serialisation (RFC 7515 §7.1) signed with node:crypto's callback form, which runs
   * the RSA operation on the libuv threadpool: the event loop only builds two base64url strings.
   * jose's SignJWT goes through WebCrypto (key conversion, promise plumbing) for the same result at
   * several times the main-thread cost. Tokens are still verified with jose everywhere.
   */
  sign(payload: JWTPayload, typ?: string): Promise<string> {
    const k = this.#current;
    if (!k) return Promise.reject(new Error('KeyManager.init() was not called'));
    const input = `${header(k, typ ?? '')}.${b64url(JSON.stringify(payload))}`;
    return new Promise((resolve, reject) => {
      rsaSign('sha256', Buffer.from(input, 'latin1'), k.privateKey, (err, sig) => {
        if (err) reject(err);
        else resolve(`${input}.${sig.toString('base64url')}`);
      });
    });
  }
}

function header(k: LoadedKey, typ: string): string {
  let h = k.headers.get(typ);
  if (h === undefined) {
    h = b64url(JSON.stringify({ alg: k.alg, kid: k.kid, ...(typ ? { typ } : {}) }));
    k.headers.set(typ, h);
  }
  return h;
}
