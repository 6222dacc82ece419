import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keyring, randomDigits, randomId, randomSecret } from '../../src/core/crypto.ts';
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
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.ok(a.verify('otp', '123456', h));
    assert.ok(!a.verify('otp', '123457', h));
    assert.ok(!a.verify('client-secret', '123456', h), 'purposes are separated');
    assert.ok(!b.verify('otp', '123456', h), 'another key does not verify');
    assert.ok(!a.verify('otp', '123456', 'zz'), 'malformed stored hash is a mismatch, not a crash');
    const sealed = a.encrypt('private key');
    assert.equal(a.decrypt(sealed), 'private key');
    assert.throws(() => b.decrypt(sealed));
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
