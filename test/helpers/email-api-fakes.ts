import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiProviderName } from '../../src/mail/providers/catalog.ts';
import { sha256Hex, signV4Parts } from '../../src/mail/providers/sigv4.ts';

/**
 * The other side of the email APIs (issue 14 tests): one local HTTP server per provider that
 * checks the provider's documented request (method, path, content type, body fields) and its
 * authentication, and refuses a wrong key the way the real API does (SendGrid 401 JSON, Mailgun 401
 * "Forbidden", SES 403 for an unknown key or a bad SigV4 signature, Postmark 401 ErrorCode 10,
 * SparkPost 401). Accepted mail is recorded; the next requests can be told to fail or hang.
 */

export interface ApiMail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

export type FakeFailure = number | 'hang';

export interface EmailApiFake {
  name: ApiProviderName;
  /** Origin, for SESAME_EMAIL_API_URL_<NAME>. */
  url: string;
  /** Credentials this fake accepts, as the Management API takes them. */
  credentials: Record<string, string | null>;
  delivered: ApiMail[];
  /** Every request received, accepted or not. */
  readonly attempts: number;
  /** The next `times` requests get `mode` (a status with the provider's error body, or no answer). */
  fail(mode: FakeFailure, times?: number): void;
  waitFor(match: (m: ApiMail) => boolean, timeoutMs?: number): Promise<ApiMail>;
  close(): Promise<void>;
}

type Answer = { status: number; body: string; type?: string; headers?: Record<string, string> };
type Check = (req: IncomingMessage, raw: Buffer, c: Record<string, string | null>) => Promise<ApiMail | Answer> | ApiMail | Answer;

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, body: JSON.stringify(body), type: 'application/json', ...(headers ? { headers } : {}) });
const same = (a: string | undefined, b: string) => a !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const isJson = (req: IncomingMessage) => /^application\/json\b/.test(req.headers['content-type'] ?? '');
/** SendGrid's and SparkPost's `{email, name}` sender (SparkPost also takes a string) as `Name <email>`; '' without an email. */
function mailbox(v: unknown): string {
  if (typeof v === 'string') return v;
  const b = (v ?? {}) as { email?: unknown; name?: unknown };
  if (typeof b.email !== 'string' || !b.email.includes('@')) return '';
  return typeof b.name === 'string' && b.name ? `${b.name} <${b.email}>` : b.email;
}
const parse = (raw: Buffer): any => {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
};
const complete = (m: Partial<ApiMail>): m is ApiMail => !!m.from && !!m.to && !!m.subject && (!!m.html || !!m.text);
const decodeWord = (s: string) => s.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

/** SendGrid v3 Mail Send (docs.sendgrid.com/api-reference/mail-send): 202 with no body. */
const sendgrid: Check = (req, raw, c) => {
  if (req.method !== 'POST' || req.url !== '/v3/mail/send') return json(404, { errors: [{ message: 'Not Found' }] });
  if (!same(req.headers.authorization, `Bearer ${c.api_key}`)) {
    return json(401, { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] });
  }
  const b = isJson(req) ? parse(raw) : undefined;
  const content = (b?.content ?? []) as { type: string; value: string }[];
  if (content[0]?.type !== 'text/plain' && content.some((p) => p.type === 'text/plain')) {
    return json(400, { errors: [{ message: 'If present, text/plain content must be first, followed by text/html', field: 'content' }] });
  }
  const m = { from: b?.from ? mailbox(b.from) : '', to: b?.personalizations?.[0]?.to?.[0]?.email, subject: b?.subject, text: content.find((p) => p.type === 'text/plain')?.value ?? '', html: content.find((p) => p.type === 'text/html')?.value ?? '' };
  return complete(m) ? m : json(400, { errors: [{ message: 'The from, personalizations, subject and content fields are required', field: null }] });
};

/** Mailgun `POST /v3/<domain>/messages`: Basic `api:<key>`, form data; 200 `{id, message}`. */
const mailgun: Check = async (req, raw, c) => {
  if (req.method !== 'POST' || req.url !== `/v3/${c.domain}/messages`) return { status: 404, body: '404 page not found', type: 'text/plain' };
  if (!same(req.headers.authorization, `Basic ${Buffer.from(`api:${c.api_key}`).toString('base64')}`)) return { status: 401, body: 'Forbidden', type: 'text/plain' };
  const type = req.headers['content-type'] ?? '';
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/.test(type)) return json(400, { message: "'from' parameter is missing" });
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
  const field = (k: string) => String(form.get(k) ?? '');
  const m = { from: field('from'), to: field('to'), subject: field('subject'), text: field('text'), html: field('html') };
  return complete(m) ? m : json(400, { message: "'from', 'to', 'subject' and 'text' or 'html' are required" });
};

/** SES v2 SendEmail, SigV4 (service `ses`) recomputed from the request as received; 200 `{MessageId}`. */
const ses: Check = (req, raw, c) => {
  if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails') return json(404, { message: 'Not Found' });
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
  if (!auth) return json(403, { message: 'Authorization header requires Credential, SignedHeaders and Signature' }, { 'x-amzn-errortype': 'IncompleteSignatureException' });
  const [, keyId, day, region, service, signedHeaders, signature] = auth;
  if (keyId !== c.accessKeyId) return json(403, { message: 'The security token included in the request is invalid.' }, { 'x-amzn-errortype': 'UnrecognizedClientException' });
  const date = String(req.headers['x-amz-date'] ?? '');
  const at = Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const names = signedHeaders!.split(';');
  if (region !== c.region || service !== 'ses' || !date.startsWith(day!) || !(Math.abs(Date.now() - at) < 300_000) || !['host', 'x-amz-date'].every((h) => names.includes(h))) {
    return json(403, { message: 'Signature not yet current, expired, or scoped to another region or service' }, { 'x-amzn-errortype': 'InvalidSignatureException' });
  }
  const expected = signV4Parts({
    method: 'POST', url: new URL(req.url, `http://${req.headers.host}`), headers: Object.fromEntries(names.map((h) => [h, String(req.headers[h] ?? '')])),
    payloadHash: sha256Hex(raw), region: region!, service: 'ses', accessKeyId: keyId!, secretAccessKey: String(c.secretAccessKey), amzDate: date,
  });
  if (expected.signature !== signature) {
    return json(403, { message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' }, { 'x-amzn-errortype': 'SignatureDoesNotMatch' });
  }
  const b = isJson(req) ? parse(raw) : undefined;
  const simple = b?.Content?.Simple;
  const m = { from: decodeWord(String(b?.FromEmailAddress ?? '')), to: b?.Destination?.ToAddresses?.[0], subject: simple?.Subject?.Data, text: simple?.Body?.Text?.Data ?? '', html: simple?.Body?.Html?.Data ?? '' };
  return complete(m) ? m : json(400, { message: 'FromEmailAddress, Destination and Content are required' }, { 'x-amzn-errortype': 'BadRequestException' });
};

/** Postmark `POST /email` (postmarkapp.com/developer/api/email-api): `X-Postmark-Server-Token`, JSON both ways. */
const postmark: Check = (req, raw, c) => {
  if (req.method !== 'POST' || req.url !== '/email') return json(404, { ErrorCode: 404, Message: 'Not found' });
  if (!same(req.headers['x-postmark-server-token'] as string | undefined, String(c.server_token))) {
    return json(401, { ErrorCode: 10, Message: 'Request does not contain a valid Server token.' });
  }
  if (!isJson(req) || !/application\/json/.test(req.headers.accept ?? '')) return json(415, { ErrorCode: 415, Message: 'Accept and Content-Type must be application/json' });
  const b = parse(raw);
  const m = { from: b?.From, to: b?.To, subject: b?.Subject, text: b?.TextBody ?? '', html: b?.HtmlBody ?? '' };
  if (!complete(m)) return json(422, { ErrorCode: 300, Message: 'Invalid email request' });
  return m;
};

/** SparkPost `POST /api/v1/transmissions`: `Authorization: <api key>`; 200 `{results}`. */
const sparkpost: Check = (req, raw, c) => {
  if (req.method !== 'POST' || req.url !== '/api/v1/transmissions') return json(404, { errors: [{ message: 'resource not found' }] });
  if (!same(req.headers.authorization, String(c.api_key))) return json(401, { errors: [{ message: 'Unauthorized.' }] });
  const b = isJson(req) ? parse(raw) : undefined;
  const to = b?.recipients?.[0]?.address;
  const m = { from: b?.content?.from ? mailbox(b.content.from) : '', to: typeof to === 'string' ? to : to?.email, subject: b?.content?.subject, text: b?.content?.text ?? '', html: b?.content?.html ?? '' };
  return complete(m) ? m : json(422, { errors: [{ message: 'required field is missing', code: '1400' }] });
};

const key = () => randomBytes(18).toString('base64url');
const FAKES: Record<ApiProviderName, { check: Check; credentials: () => Record<string, string | null>; ok: () => Answer }> = {
  sendgrid: { check: sendgrid, credentials: () => ({ api_key: `SG.${key()}` }), ok: () => ({ status: 202, body: '' }) },
  mailgun: { check: mailgun, credentials: () => ({ api_key: key(), domain: 'mg.acme.example', region: 'eu' }), ok: () => json(200, { id: `<${key()}@mg.acme.example>`, message: 'Queued. Thank you.' }) },
  ses: {
    check: ses,
    credentials: () => ({ accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: key(), region: 'eu-west-1' }),
    ok: () => json(200, { MessageId: key() }),
  },
  postmark: { check: postmark, credentials: () => ({ server_token: key() }), ok: () => json(200, { ErrorCode: 0, Message: 'OK', MessageID: key(), SubmittedAt: new Date().toISOString() }) },
  sparkpost: { check: sparkpost, credentials: () => ({ api_key: key(), region: null }), ok: () => json(200, { results: { total_rejected_recipients: 0, total_accepted_recipients: 1, id: key() } }) },
};

/** The error body each provider answers with a given status (the shape `reason()` in send.ts reads). */
const failure = (name: ApiProviderName, status: number): Answer =>
  name === 'mailgun' ? json(status, { message: 'Service temporarily unavailable' })
  : name === 'postmark' ? json(status, { ErrorCode: 100, Message: 'Maintenance' })
  : name === 'ses' ? json(status, { message: 'Rate exceeded' })
  : json(status, { errors: [{ message: 'Service Unavailable' }] });

export async function startEmailApiFake(name: ApiProviderName): Promise<EmailApiFake> {
  const spec = FAKES[name];
  const credentials = spec.credentials();
  const delivered: ApiMail[] = [];
  const script: FakeFailure[] = [];
  const waiters = new Set<() => void>();
  let attempts = 0;
  const server = createServer((req, res) => {
    attempts++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const mode = script.shift();
        if (mode === 'hang') return; // no answer: the caller's timeout ends it
        const result = mode !== undefined ? failure(name, mode) : await spec.check(req, Buffer.concat(chunks), credentials);
        let answer: Answer;
        if ('status' in result) answer = result;
        else {
          delivered.push(result);
          for (const w of waiters) w();
          answer = spec.ok();
        }
        res.writeHead(answer.status, { ...(answer.type ? { 'content-type': answer.type } : {}), ...answer.headers });
        res.end(answer.body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    credentials,
    delivered,
    get attempts() {
      return attempts;
    },
    fail(mode, times = 1) {
      for (let i = 0; i < times; i++) script.push(mode);
    },
    waitFor(match, timeoutMs = 8000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = delivered.find(match);
          if (!m) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name} fake: no matching mail within ${timeoutMs} ms (${delivered.length} delivered, ${attempts} requests)`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
