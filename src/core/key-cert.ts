import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';

/**
 * A self-signed X.509 v3 certificate (RFC 5280 §4.1) for a signing key, DER-encoded here because
 * node:crypto parses certificates but does not make them. Auth0 shows one per key (`cert`, `pkcs7`,
 * `fingerprint`, `thumbprint` in /api/v2/keys/signing) and SAML-era tooling pins it. Everything is
 * derived from the key, so the certificate is the same in every process: serial = SHA-256(kid)
 * truncated, validity = created_at + 10 years, sha256WithRSAEncryption (PKCS#1 v1.5, deterministic).
 */
export function keyCertificate(privateKey: KeyObject, kid: string, cn: string, createdAt: number): { der: Buffer; pem: string; pkcs7: string } {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
  const notBefore = Math.floor(createdAt / 1000) * 1000;
  const serial = createHash('sha256').update(kid).digest().subarray(0, 16);
  serial[0]! &= 0x7f; // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version v3
    integer(serial),
    SHA256_RSA,
    name,
    seq(time(notBefore), time(notBefore + TEN_YEARS_MS)),
    name,
    spki,
  );
  const der = seq(tbs, SHA256_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey)])));
  // RFC 2315 §9.1 degenerate SignedData: the certificate only, no content, no signers (a "certs-only" p7b).
  const p7 = seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, seq(integer(Buffer.from([1])), set(), seq(oid('1.2.840.113549.1.7.1')), tlv(0xa0, der), set())));
  return { der, pem: pem('CERTIFICATE', der), pkcs7: pem('PKCS7', p7) };
}

const TEN_YEARS_MS = 3652 * 86_400_000;

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  let len: Buffer;
  if (body.length < 0x80) len = Buffer.from([body.length]);
  else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);

function integer(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
  const v = bytes.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a! + b!];
  for (const n of rest) {
    const enc = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) enc.unshift((v & 0x7f) | 0x80);
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = Number(iso.slice(0, 4));
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

/** PEM with CRLF line breaks, as Auth0 returns them. */
function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\r\n${lines.join('\r\n')}\r\n-----END ${label}-----`;
}
