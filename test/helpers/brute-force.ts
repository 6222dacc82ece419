import assert from 'node:assert/strict';
import { request } from 'node:http';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import type { TestServer } from './boot.ts';

/** Spec §3.3 (BFP): the first sentence of Auth0's text, byte for byte (Sesame sends no unblock email). */
export const TOO_MANY = 'Your account has been blocked after multiple consecutive login attempts.';
export const BLOCKED_BODY = { error: 'too_many_attempts', error_description: TOO_MANY };
/** Spec §7: failed attempts per identifier and IP before the pair is blocked. */
export const THRESHOLD = 10;

/**
 * A request from another loopback address (127.0.0.0/8 all reach the server on 127.0.0.1): how a
 * test plays a second IP without trusting proxy headers. `body` is sent as JSON, or as a form when
 * `form` is set; the answer's status, headers and text.
 */
export function postFrom(
  server: TestServer, localAddress: string, path: string, body: Record<string, string>, opts: { form?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; json(): any }> {
  const url = new URL(path, server.baseUrl);
  const payload = opts.form ? new URLSearchParams(body).toString() : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', localAddress,
        headers: { 'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json', 'content-length': Buffer.byteLength(payload), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** One OTP exchange at /oauth/token for the Default App on `email`, from `ip` (127.0.0.1 by default). */
export function exchange(server: TestServer, username: string, otp: string, ip = '127.0.0.1') {
  return postFrom(server, ip, '/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...server.defaultApp, username, otp, realm: 'email' });
}

/** `n` wrong guesses for `email` from `ip`, one after the other; each must be answered as a wrong code. */
export async function fail(server: TestServer, email: string, n: number, ip = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await exchange(server, email, '000000', ip);
    assert.deepEqual({ status: res.status, body: res.json() }, { status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or verification code.' } }, `guess ${i + 1}`);
  }
}

/** Blocks (email, ip) with THRESHOLD wrong guesses and checks the next one is refused. */
export async function block(server: TestServer, email: string, ip = '127.0.0.1'): Promise<void> {
  await fail(server, email, THRESHOLD, ip);
  const res = await exchange(server, email, '000000', ip);
  assert.deepEqual({ status: res.status, body: res.json() }, { status: 429, body: BLOCKED_BODY });
}
