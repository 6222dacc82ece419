import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for one request (docs.aws.amazon.com, "Create a signed AWS API request"):
 * canonical request → string to sign → HMAC chain of date, region, service, `aws4_request` →
 * `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Written here, with
 * node:crypto, rather than pulling in @aws-sdk/client-sesv2 and its ~100 packages for one call;
 * test/unit/sigv4.test.ts pins it to AWS's published test suite vectors.
 */

export interface SigV4Request {
  method: string;
  url: URL;
  /** Every header to sign, `host` and `x-amz-date` included; names in any case. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body. */
  payloadHash: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `YYYYMMDD'T'HHMMSS'Z'`, the same as the `x-amz-date` header. */
  amzDate: string;
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 unreserved characters stay; everything else is %XX, upper case (SigV4's URI encoding). */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `20150830T123600Z` from a time in milliseconds. */
export const amzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The parts a verifier compares: which headers were signed and the hex signature. */
export function signV4Parts(r: SigV4Request): { signedHeaders: string; signature: string; scope: string } {
  const headers = Object.entries(r.headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = headers.map(([k]) => k).join(';');
  // Non-S3 services encode each path segment once more (the path is already URL-encoded in `URL`).
  const path = r.url.pathname.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/';
  const canonical = [r.method, path, canonicalQuery(r.url), ...headers.map(([k, v]) => `${k}:${v}`), '', signedHeaders, r.payloadHash].join('\n');
  const day = r.amzDate.slice(0, 8);
  const scope = `${day}/${r.region}/${r.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', r.amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${r.secretAccessKey}`, day), r.region), r.service), 'aws4_request');
  return { signedHeaders, signature: createHmac('sha256', key).update(toSign).digest('hex'), scope };
}

/** The `Authorization` header value. */
export function signV4(r: SigV4Request): string {
  const { signedHeaders, signature, scope } = signV4Parts(r);
  return `AWS4-HMAC-SHA256 Credential=${r.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
