import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWTPayload, jwtVerify } from 'jose';

/**
 * The other side of the SMS wire (issue 5 tests): a server that checks Twilio's REST shape and a
 * custom SMS gateway that verifies Auth0's bearer JWT. Real HTTP on 127.0.0.1, ephemeral ports.
 * Both record what they accept and can be told to misbehave for the next requests.
 */

/** A scripted answer for the next request(s): a bare 5xx, no answer at all, or a Twilio error. */
export type TwilioFailure = 500 | 502 | 503 | 'hang' | { status: number; code: number; message?: string };
export type GatewayFailure = number | 'hang';

export interface TwilioMessage {
  accountSid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  /** The Basic credentials the request carried. */
  auth: { username: string; password: string };
  /** The `sid` answered for it. */
  sid: string;
}

export interface TwilioServer {
  /** Origin, for SESAME_TWILIO_API_URL. */
  url: string;
  accountSid: string;
  authToken: string;
  /** Messages answered 201, in order. */
  messages: TwilioMessage[];
  /** Every request received, well-formed or not, failed on purpose or not. */
  readonly attempts: number;
  /** The next `times` requests (default 1) get `mode` instead of being accepted; calls queue up. */
  fail(mode: TwilioFailure, times?: number): void;
  close(): Promise<void>;
}

/** Twilio's error body (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions). */
const twilioError = (status: number, code: number, message: string) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

/** Default texts of the codes tests use; `{to}` is replaced by the request's To. */
const TWILIO_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  21211: "The 'To' number {to} is not a valid phone number.",
  21408: 'Permission to send an SMS has not been enabled for the region indicated by the \'To\' number: {to}',
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

const PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

/**
 * A Twilio Messages API double: POST /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, Basic
 * auth `sid:token` as created with, `To` and `Body`, and exactly one of `From` / `MessagingServiceSid`.
 * Shape errors answer like Twilio (400 with `code`/`message`/`more_info`/`status`); a wrong
 * account or token answers 401 `20003 Authenticate`. Accepted messages answer 201 with a Twilio-like
 * message resource (`sid` "SM…", `status` "queued").
 */
export async function startTwilioServer(opts: { accountSid?: string; authToken?: string } = {}): Promise<TwilioServer> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const authToken = opts.authToken ?? randomBytes(16).toString('hex');
  const messages: TwilioMessage[] = [];
  const script = new Script<TwilioFailure>();

  const server = createServer((req, res) => {
    script.attempts++;
    void readBody(req).then((raw) => {
      const send = (status: number, body: unknown) => json(res, status, body);
      const m = PATH.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (req.method !== 'POST' || !m) return send(404, twilioError(404, 20404, `The requested resource ${req.url} was not found`));
      const creds = basic(req.headers.authorization);
      if (!creds || creds.username !== accountSid || creds.password !== authToken || decodeURIComponent(m[1]!) !== accountSid) {
        return send(401, twilioError(401, 20003, 'Authenticate'));
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return send(400, twilioError(400, 20001, `The test server expects application/x-www-form-urlencoded, got ${req.headers['content-type'] ?? 'none'}`));
      }
      const form = new URLSearchParams(raw);
      for (const k of new Set(form.keys())) {
        if (form.getAll(k).length > 1) return send(400, twilioError(400, 20001, `Parameter ${k} sent more than once`));
      }
      const to = form.get('To');
      const body = form.get('Body');
      const from = form.get('From');
      const service = form.get('MessagingServiceSid');
      if (!to) return send(400, twilioError(400, 21604, "A 'To' phone number is required."));
      if (!body) return send(400, twilioError(400, 21602, 'Message body is required.'));
      if ((from === null) === (service === null)) {
        return send(400, twilioError(400, 21603, 'The test server requires exactly one of From and MessagingServiceSid.'));
      }
      if (!/^\+[1-9][0-9]{5,14}$/.test(to)) return send(400, twilioError(400, 21211, TWILIO_MESSAGES[21211]!.replace('{to}', to)));

      const failure = script.next();
      if (failure === 'hang') return; // never answered; close() drops the socket
      if (typeof failure === 'number') return send(failure, twilioError(failure, 20500, 'Internal Server Error'));
      if (failure) {
        const text = failure.message ?? TWILIO_MESSAGES[failure.code] ?? `Twilio error ${failure.code}`;
        return send(failure.status, twilioError(failure.status, failure.code, text.replace('{to}', to)));
      }

      const sid = `SM${randomBytes(16).toString('hex')}`;
      messages.push({ accountSid, to, body, auth: creds, sid, ...(from !== null ? { from } : {}), ...(service !== null ? { messagingServiceSid: service } : {}) });
      const now = new Date().toUTCString().replace('GMT', '+0000');
      return send(201, {
        account_sid: accountSid,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from,
        messaging_service_sid: service,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid,
        status: 'queued',
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      });
    });
  });
  const url = await listen(server);
  return Object.assign(script, { url, accountSid, authToken, messages, close: () => shut(server) });
}

export interface GatewayMessage {
  recipient: string;
  body: string;
  sender?: string;
  req?: { ip: string; 'user-agent': string | null };
  /** The verified JWT claims, when the gateway requires authentication. */
  claims?: JWTPayload;
}

export interface SmsGateway {
  /** The URL to put in `options.gateway_url` (`http://127.0.0.1:PORT/sms`). */
  url: string;
  /** Messages accepted, in order. */
  messages: GatewayMessage[];
  /** Every request received. */
  readonly attempts: number;
  /** The next `times` requests (default 1) answer this status (empty body) or never answer. */
  fail(mode: GatewayFailure, times?: number): void;
  close(): Promise<void>;
}

export interface GatewayOpts {
  /** Shared secret; without it the gateway accepts requests with no Authorization header. */
  secret?: string;
  /** The secret is base64 (as `secret_base64_encoded: true`): the HMAC key is its decoded bytes. */
  secretBase64?: boolean;
  audience?: string;
  subject?: string;
  /** The success status (Auth0 documents 200). */
  successStatus?: number;
}

/**
 * A custom SMS gateway as Auth0's PL-GW describes it: POST JSON `{recipient, body, sender?, req?}`.
 * With a `secret`, the `Authorization: Bearer` JWT is verified with jose (HS256 only, `aud`, `sub`,
 * `iat` and `exp` required, `exp` in the future); anything else answers 401.
 */
export async function startSmsGateway(opts: GatewayOpts = {}): Promise<SmsGateway> {
  const messages: GatewayMessage[] = [];
  const script = new Script<GatewayFailure>();
  const key = opts.secret === undefined ? undefined : opts.secretBase64 ? Buffer.from(opts.secret, 'base64') : new TextEncoder().encode(opts.secret);

  const server = createServer((req, res) => {
    script.attempts++;
    void readBody(req).then(async (raw) => {
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/sms') return json(res, 404, { error: 'not found' });
      let claims: JWTPayload | undefined;
      if (key) {
        const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(req.headers.authorization ?? '');
        if (!m) return json(res, 401, { error: 'missing bearer token' });
        try {
          ({ payload: claims } = await jwtVerify(m[1]!, key, {
            algorithms: ['HS256'],
            ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
            ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
            requiredClaims: ['aud', 'sub', 'iat', 'exp'],
          }));
        } catch (err) {
          return json(res, 401, { error: (err as Error).message });
        }
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { error: 'expected application/json' });
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return json(res, 400, { error: 'invalid JSON' });
      }
      const reqInfo = msg.req as GatewayMessage['req'] | undefined;
      if (typeof msg.recipient !== 'string' || typeof msg.body !== 'string' || (msg.sender !== undefined && typeof msg.sender !== 'string') ||
        (reqInfo !== undefined && (typeof reqInfo !== 'object' || reqInfo === null || typeof reqInfo.ip !== 'string'))) {
        return json(res, 400, { error: 'expected {recipient, body, sender?, req?}' });
      }
      const failure = script.next();
      if (failure === 'hang') return;
      if (failure !== undefined) return json(res, failure, { error: `failing on purpose with ${failure}` });
      messages.push({
        recipient: msg.recipient,
        body: msg.body,
        ...(msg.sender !== undefined ? { sender: msg.sender as string } : {}),
        ...(reqInfo !== undefined ? { req: reqInfo } : {}),
        ...(claims ? { claims } : {}),
      });
      return json(res, opts.successStatus ?? 200, { status: 'sent' });
    });
  });
  const origin = await listen(server);
  return Object.assign(script, { url: `${origin}/sms`, messages, close: () => shut(server) });
}

/**
 * The code in an SMS body: the origin-bound line's `#<code>` (the default template's last line)
 * when there is one, else the first run of 4 to 10 digits.
 */
export function codeFromSms(body: string): string {
  const bound = /^@\S+ #([0-9]+)\s*$/m.exec(body.split('\n').at(-1) ?? '');
  if (bound) return bound[1]!;
  const any = /(?<![0-9])([0-9]{4,10})(?![0-9])/.exec(body);
  if (!any) throw new Error(`no code in SMS body: ${JSON.stringify(body)}`);
  return any[1]!;
}

/** A local port nothing listens on (bound, then released): requests to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What both doubles share: every request counted, and scripted failures for the next ones. */
class Script<T> {
  attempts = 0;
  readonly #queue: T[] = [];
  /** The next `times` requests (default 1) get `mode`; calls queue up. */
  fail(mode: T, times = 1): void {
    for (let i = 0; i < times; i++) this.#queue.push(mode);
  }
  next(): T | undefined {
    return this.#queue.shift();
  }
}

function basic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server and drops open sockets, hanging requests included. */
function shut(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
