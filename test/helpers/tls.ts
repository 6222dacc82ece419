import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TestCert {
  certPath: string;
  keyPath: string;
  /** The certificate PEM: self-signed, so it is its own CA. */
  ca: string;
}

let made: Promise<TestCert> | undefined;

/**
 * A self-signed certificate for localhost and 127.0.0.1, valid one day, made once per process with
 * openssl (no certificate library needed) and removed at exit.
 */
export function makeTestCert(): Promise<TestCert> {
  made ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesame-tls-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    return { certPath, keyPath, ca: readFileSync(certPath, 'utf8') };
  })();
  return made;
}

/**
 * A WHATWG `fetch` that trusts `ca` (and nothing else), built on node:https rather than an undici
 * Agent so the test suite needs no extra dependency. It ignores any `dispatcher`/`agent` in `init`:
 * the trust it was built with always applies.
 */
export function trustedFetch(ca: string): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init); // normalises URL, headers and every body type to bytes
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    if (body && !headers['content-length']) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const r = request(req.url, { method: req.method, headers, ca, signal: req.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.append(k, one);
          }
          const status = res.statusCode ?? 500;
          const noBody = req.method === 'HEAD' || status === 204 || status === 205 || status === 304;
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out }));
        });
      });
      r.on('error', reject);
      r.end(body);
    });
  };
}
