import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * What Sesame wrote before key ids and associated data (issue 10 §3), reimplemented here so tests can
 * build a database "written by the old format": `v1.<iv>.<tag>.<ct>` under one AES key, and bare hex
 * HMACs.
 */
const key = (secret: string, info: string) => Buffer.from(hkdfSync('sha256', secret, 'sesame', info, 32));

export function legacySeal(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key(secret, 'aes-256-gcm-v1'), iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function legacyHash(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', key(secret, 'hmac-v1')).update(purpose).update('\0').update(value).digest('hex');
}
