import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Keyring } from '../../src/core/crypto.ts';
import { KeyManager } from '../../src/core/keys.ts';
import type { SigningKeyRecord, Store } from '../../src/store/types.ts';

/** KeyManager signs with node:crypto and a hand-written JWS encoder; jose must accept every token. */

async function keyManager(): Promise<KeyManager> {
  const rows: SigningKeyRecord[] = [];
  const store = {
    listSigningKeys: async () => rows,
    insertSigningKey: async (r: SigningKeyRecord) => void rows.push(r),
  } as unknown as Store;
  const keyring = new Keyring('unit-test-secret-0123456789abcdefghijkl');
  const km = new KeyManager(store, keyring);
  await km.init();
  return km;
}

test('KeyManager.sign: jose verifies the signature against the JWKS; header has alg, kid, typ', async () => {
  const km = await keyManager();
  const [kid] = km.jwks().keys.map((k) => k.kid);
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: 'https://sesame.test/', sub: 'email|1', aud: ['api', 'https://sesame.test/userinfo'], iat: now, exp: now + 60, scope: 'openid', name: 'Zoë 😀 <&>' };
  const token = await km.sign(payload, 'at+jwt');
  assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', kid, typ: 'at+jwt' });
  const { payload: got, protectedHeader } = await jwtVerify(token, createLocalJWKSet(km.jwks()), { algorithms: ['RS256'], typ: 'at+jwt', issuer: 'https://sesame.test/', audience: 'api' });
  assert.deepEqual(got, payload);
  assert.equal(protectedHeader.kid, kid);
  // The public key as a KeyObject (what userinfo uses) verifies it too.
  await jwtVerify(token, km.currentPublicKey());
});

test('KeyManager.sign: without typ the header has no typ; the same key signs both kinds', async () => {
  const km = await keyManager();
  const token = await km.sign({ sub: 'x', aud: 'c' });
  const header = decodeProtectedHeader(token);
  assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid']);
  await jwtVerify(token, createLocalJWKSet(km.jwks()));
  const typed = await km.sign({ sub: 'x' }, 'at+jwt');
  assert.equal(decodeProtectedHeader(typed).kid, header.kid);
});

test('KeyManager.sign: concurrent signatures are all valid and distinct', async () => {
  const km = await keyManager();
  const jwks = createLocalJWKSet(km.jwks());
  const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => km.sign({ sub: `u${i}` })));
  assert.equal(new Set(tokens).size, 40);
  const subs = await Promise.all(tokens.map(async (t) => (await jwtVerify(t, jwks)).payload.sub));
  assert.deepEqual(subs, Array.from({ length: 40 }, (_, i) => `u${i}`));
});

test('KeyManager.sign: a tampered payload fails verification', async () => {
  const km = await keyManager();
  const [h, , s] = (await km.sign({ sub: 'alice' })).split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${s}`;
  await assert.rejects(jwtVerify(forged, createLocalJWKSet(km.jwks())), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

test('KeyManager.sign before init() rejects', async () => {
  const km = new KeyManager({} as Store, {} as Keyring);
  await assert.rejects(km.sign({ sub: 'x' }), /init\(\) was not called/);
});
