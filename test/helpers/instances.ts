import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { type Backend, freshDatabase } from './backends.ts';
import { MGMT } from './boot.ts';
import { type ServerProcess, startServerProcess } from './server-process.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

/**
 * Several `sesame start` processes on one database (issue 13 §2–3). They share one explicit issuer,
 * as instances behind one load balancer do: a token minted by one is for the audience of all.
 */
export const ISSUER = 'http://sesame.test/';
export const SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export function instanceEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SESAME_DATABASE_URL: databaseUrl,
    SESAME_ISSUER: ISSUER,
    SESAME_SECRET: SECRET,
    SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id,
    SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret,
    SESAME_LOG_LEVEL: 'warn',
    SESAME_LOG_FORMAT: 'json',
    ...extra,
  };
}

/** Boot waits up to two minutes: on a loaded CI machine one start (tsx, migrations) has taken 20 s. */
/** Starts from one address to many identifiers on purpose: the per-IP and per-identifier limits off. */
export const NO_LIMITS = { SESAME_START_LIMIT_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_HOUR: '0', SESAME_IDENTIFIER_STARTS_PER_DAY: '0' };

/** `kill -9`, and wait until the process is gone. */
export async function kill9(srv: ServerProcess): Promise<void> {
  srv.child.kill('SIGKILL');
  while (srv.exitCode() === undefined && srv.child.signalCode === null) await new Promise((r) => setTimeout(r, 10));
}

export const startInstance = (databaseUrl: string, extra: Record<string, string> = {}, args: string[] = []): Promise<ServerProcess> =>
  startServerProcess(instanceEnv(databaseUrl, extra), 120_000, args);

export const postJson = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** A Management API caller on one instance (the token is good on every instance: same issuer and keys). */
export async function management(base: string, issuer = ISSUER): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>> {
  const res = await postJson(base, '/oauth/token', { grant_type: 'client_credentials', ...MGMT, audience: `${issuer}api/v2/` });
  const { access_token } = (await res.json()) as { access_token?: string };
  if (!access_token) throw new Error(`no management token: ${res.status}`);
  return async (method, path, body) => {
    const r = await fetch(`${base}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${access_token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
}

export type Management = Awaited<ReturnType<typeof management>>;

/** A public (SPA) client enabled on the `email` connection, made over the Management API. */
export async function passwordlessClient(api: Management, fields: Record<string, unknown> = {}): Promise<{ client_id: string; connectionId: string }> {
  const made = await api('POST', '/clients', { name: `App ${Math.random().toString(36).slice(2, 8)}`, app_type: 'spa', grant_types: [PASSWORDLESS_OTP_GRANT], ...fields });
  if (made.status !== 201) throw new Error(`client not created: ${made.status} ${JSON.stringify(made.body)}`);
  const conns = await api('GET', '/connections?name=email');
  const connectionId = (conns.body as { id: string }[])[0]!.id;
  const enabled = await api('PATCH', `/connections/${connectionId}/clients`, [{ client_id: made.body.client_id, status: true }]);
  if (enabled.status !== 204) throw new Error(`not enabled: ${enabled.status}`);
  return { client_id: made.body.client_id as string, connectionId };
}

/** POST /passwordless/start (send=code). */
export const startCode = (base: string, client_id: string, email: string, headers: Record<string, string> = {}) =>
  postJson(base, '/passwordless/start', { client_id, connection: 'email', email, send: 'code' }, headers);

/** The passwordless OTP grant (spec §3.3). */
export const exchangeCode = (base: string, client_id: string, email: string, otp: string, headers: Record<string, string> = {}) =>
  postJson(base, '/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, client_id, username: email, otp, realm: 'email', scope: 'openid' }, headers);

/** A file database for process tests: SQLite must outlive a process to be restarted on (`:memory:` cannot). */
export async function fileDatabase(backend: Backend): Promise<{ url: string; drop(): Promise<void> }> {
  if (backend === 'postgres') return freshDatabase('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'sesame-db-'));
  return { url: `sqlite:${join(dir, 'sesame.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Reads the database behind a server directly (what was written, whatever was answered). */
export async function query<T>(url: string, text: string): Promise<T[]> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(text).all() as T[];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

export interface RestartBed {
  /** The file database's URL (valid once the suite's before() has run). */
  url(): string;
  sink(): SmtpSink;
  /** An instance on the database, delivering to `smtp` (the sink's by default), limits off. */
  start(smtp?: string): Promise<ServerProcess>;
}

/**
 * For crash tests (issue 13 §3): one file database and SMTP sink per suite, and instances started
 * on it that may be killed and started again; the survivors are stopped after the suite.
 */
export function useRestartBed(backend: Backend): RestartBed {
  let db: Awaited<ReturnType<typeof fileDatabase>> | undefined;
  let sink: SmtpSink | undefined;
  const procs: ServerProcess[] = [];
  before(async () => {
    db = await fileDatabase(backend);
    sink = await startSmtpSink();
  });
  after(async () => {
    for (const p of procs) if (p.exitCode() === undefined && p.child.signalCode === null) await p.stop();
    await sink?.close();
    await db?.drop();
  });
  return {
    url: () => db!.url,
    sink: () => sink!,
    async start(smtp) {
      const p = await startInstance(db!.url, { SESAME_SMTP_URL: smtp ?? sink!.url, ...NO_LIMITS });
      procs.push(p);
      return p;
    },
  };
}
