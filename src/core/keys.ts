import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Store } from '../store/types.ts';
import type { Keyring } from './crypto.ts';
import { randomId } from './crypto.ts';

interface LoadedKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

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
    const jwk = JSON.parse(this.#keyring.decrypt(cur.private_jwk_enc)) as JWK;
    this.#current = {
      kid: cur.kid,
      alg: cur.alg,
      privateKey: createPrivateKey({ key: jwk as never, format: 'jwk' }),
      publicJwk: JSON.parse(cur.public_jwk) as JWK,
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#published };
  }

  /** Public key of the current signing key (tests and userinfo verify with it). */
  currentPublicKey(): KeyObject {
    return createPublicKey({ key: this.#current!.publicJwk as never, format: 'jwk' });
  }

  async sign(payload: JWTPayload, typ?: string): Promise<string> {
    const k = this.#current;
    if (!k) throw new Error('KeyManager.init() was not called');
    return new SignJWT(payload).setProtectedHeader({ alg: k.alg, kid: k.kid, ...(typ ? { typ } : {}) }).sign(k.privateKey);
  }
}
