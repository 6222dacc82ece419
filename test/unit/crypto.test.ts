import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keyring, SealError, randomDigits, randomId, randomSecret } from '../../src/core/crypto.ts';
import { legacyHash, legacySeal } from '../helpers/legacy-seal.ts';
import { decodeTelemetry, newLogId } from '../../src/core/logs.ts';
import { validateTotp } from '../../src/core/otp.ts';

describe('crypto helpers', () => {
  it('draws unbiased digits (a modulo-biased generator would fail this)', () => {
    // 200,000 single digits: a `byte % 10` generator would give digits 0–5 a 26/256 chance and 6–9
    // 25/256, a chi-square near 70; a fair one stays under 44.8 (9 degrees of freedom, p ≈ 1e-6, so
    // the test itself fails about once in a million runs).
    const N = 200_000;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < N; i++) counts[Number(randomDigits(1))]!++;
    const chi = counts.reduce((acc, c) => acc + (c - N / 10) ** 2 / (N / 10), 0);
    assert.ok(chi < 44.8, `chi-square ${chi.toFixed(1)} for ${counts.join(',')}`);
    for (let i = 0; i < 100; i++) assert.match(randomDigits(6), /^\d{6}$/);
  });

  it('makes 256-bit secrets and alphanumeric ids', () => {
    assert.equal(Buffer.from(randomSecret(), 'base64url').length, 32);
    assert.match(randomId(32), /^[A-Za-z0-9]{32}$/);
    assert.notEqual(randomSecret(), randomSecret());
  });

  it('hashes with a key and purpose, verifies in constant time, encrypts at rest', () => {
    const a = new Keyring('a'.repeat(32));
    const b = new Keyring('b'.repeat(32));
    const h = a.hash('otp', '123456');
    assert.match(h, new RegExp(`^${a.keyId}\\.[0-9a-f]{64}$`));
    assert.ok(a.verify('otp', '123456', h));
    assert.ok(!a.verify('otp', '123457', h));
    assert.ok(!a.verify('client-secret', '123456', h), 'purposes are separated');
    assert.ok(!b.verify('otp', '123456', h), 'another key does not verify');
    assert.ok(!a.verify('otp', '123456', 'zz'), 'malformed stored hash is a mismatch, not a crash');
    assert.ok(!a.verify('otp', '123456', `${a.keyId}.zz`));
    const sealed = a.seal('signing:k1', 'private key');
    assert.match(sealed, new RegExp(`^v2\\.${a.keyId}\\.`));
    assert.equal(a.open('signing:k1', sealed), 'private key');
    assert.throws(() => b.open('signing:k1', sealed), SealError);
  });

  it('binds a sealed value to its purpose and row, and pins the 128-bit tag (issue 10 §3)', () => {
    const k = new Keyring('k'.repeat(32));
    const sealed = k.seal('signing:kid1', '{"d":"private"}');
    assert.throws(() => k.open('signing:kid2', sealed), SealError, 'another row');
    assert.throws(() => k.open('sms:twilio:con_1', sealed), SealError, 'another purpose (another key, another AAD)');
    const [v, kid, iv, tag, ct] = sealed.split('.') as [string, string, string, string, string];
    const short = Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url');
    assert.throws(() => k.open('signing:kid1', [v, kid, iv, short, ct].join('.')), SealError, 'a truncated tag is refused');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0]! ^= 1;
    assert.throws(() => k.open('signing:kid1', [v, kid, iv, tag, flipped.toString('base64url')].join('.')), SealError);
    assert.throws(() => k.open('signing:kid1', 'v9.x.y'), SealError);
  });

  it('rotates: previous secrets open and verify, new values use the current one, old formats still read', () => {
    const A = 'A'.repeat(32);
    const B = 'B'.repeat(32);
    const old = new Keyring(A);
    const rotated = new Keyring(B, [A]);
    assert.deepEqual(rotated.previousKeyIds, [old.keyId]);
    const sealed = old.seal('smtp', 'pw');
    const hashed = old.hash('client-secret', 's3');
    assert.equal(rotated.open('smtp', sealed), 'pw');
    assert.ok(rotated.verify('client-secret', 's3', hashed));
    assert.ok(!rotated.isCurrent(sealed) && !rotated.isCurrent(hashed));
    assert.ok(rotated.isCurrent(rotated.seal('smtp', 'pw')) && rotated.isCurrent(rotated.hash('x', 'y')));
    assert.ok(rotated.hashCandidates('client-secret', 's3').includes(hashed));
    assert.equal(rotated.hashCandidates('client-secret', 's3')[0], rotated.hash('client-secret', 's3'), 'current first');
    assert.throws(() => new Keyring(B).open('smtp', sealed), /SESAME_SECRET_PREVIOUS/);
    // What Sesame wrote before key ids: v1 ciphertexts without AAD and bare hex hashes.
    assert.equal(rotated.open('smtp', legacySeal(A, 'older')), 'older');
    assert.equal(old.open('signing:any', legacySeal(A, 'older')), 'older');
    assert.ok(rotated.verify('otp', '42', legacyHash(A, 'otp', '42')));
    assert.ok(rotated.hashCandidates('otp', '42').includes(legacyHash(A, 'otp', '42')));
    assert.throws(() => new Keyring(B).open('smtp', legacySeal(A, 'older')), SealError);
  });

  it('makes 56-digit, time-ordered log ids', () => {
    const ids = Array.from({ length: 1000 }, () => newLogId());
    for (const id of ids) assert.match(id, /^\d{56}$/);
    assert.deepEqual([...ids].sort(), ids);
    assert.ok(newLogId(Date.now() + 1000) > ids.at(-1)!);
  });

  it('decodes both base64 flavours of Auth0-Client telemetry and ignores junk', () => {
    const obj = { name: 'node-auth0', version: '4.37.1', env: { node: '20.20.2' } };
    const json = JSON.stringify(obj);
    assert.deepEqual(decodeTelemetry(Buffer.from(json).toString('base64url')), obj);
    assert.deepEqual(decodeTelemetry(Buffer.from(json).toString('base64')), obj);
    assert.equal(decodeTelemetry('!!!'), undefined);
    assert.equal(decodeTelemetry(Buffer.from('[1,2]').toString('base64')), undefined);
    assert.equal(decodeTelemetry(undefined), undefined);
  });

  it('refuses code lengths outside 6–10 and lifetimes above 600 s', () => {
    assert.equal(validateTotp({ length: 6, time_step: 180 }), undefined);
    assert.equal(validateTotp({ length: 10, time_step: 600 }), undefined);
    assert.ok(validateTotp({ length: 5 }));
    assert.ok(validateTotp({ length: 11 }));
    assert.ok(validateTotp({ time_step: 601 }));
    assert.ok(validateTotp({ time_step: 0 }));
    assert.ok(validateTotp('x'));
  });
});
