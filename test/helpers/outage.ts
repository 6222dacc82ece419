import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PG_ADMIN, freshDatabase } from './backends.ts';
import { MGMT } from './boot.ts';
import { type ServerProcess, startServerProcess } from './server-process.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

/**
 * The rig of the database-outage tests (issue 11, issue 13 §3): db-outage.test.ts on the shared
 * PostgreSQL server, pg-restart.test.ts on a private cluster it restarts.
 */

/** What a driver says; none of it may reach a response. */
export const DRIVER_TEXT = /terminating connection|administrator command|Connection terminated|not currently accepting|ECONNREFUSED|57P01|DatabaseError/i;

export interface Rig {
  srv: ServerProcess;
  /** A superuser connection to the database's server, to refuse and terminate the server's connections. */
  admin: pg.Client;
  /** The server's database. */
  name: string;
  /** The server's SMTP server: every start answered 200 must arrive here. */
  sink: SmtpSink;
}

/** The database a rig's server runs on; `drop` removes it (and whatever holds it). */
export interface OutageDatabase {
  url: string;
  drop(): Promise<void>;
  /** A superuser connection string on the same server; PG_ADMIN when absent. */
  adminUrl?: string;
}

/**
 * In a describe: `sesame start` in a process of its own on a fresh PostgreSQL database (by default
 * one on the shared server, else what `database` opens), with `env`.
 */
export function outageRig(env: Record<string, string>, database: () => Promise<OutageDatabase> = () => freshDatabase('postgres')): Rig {
  const rig = {} as Rig;
  let db: OutageDatabase | undefined;
  before(async () => {
    db = await database();
    rig.name = new URL(db.url).pathname.slice(1);
    rig.sink = await startSmtpSink();
    rig.srv = await startServerProcess({ SESAME_DATABASE_URL: db.url, SESAME_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz', SESAME_SMTP_URL: rig.sink.url, ...env }, 120_000);
    rig.admin = new pg.Client({ connectionString: db.adminUrl ?? PG_ADMIN });
    // A restart of the server ends this connection too: its next query fails, and the event, unheard,
    // would end the test runner.
    rig.admin.on('error', () => {});
    await rig.admin.connect();
  });
  after(async () => {
    await rig.admin?.query(`ALTER DATABASE ${rig.name} ALLOW_CONNECTIONS true`).catch(() => {});
    await rig.admin?.end().catch(() => {});
    await rig.srv?.stop();
    await rig.sink?.close();
    await db?.drop();
  });
  return rig;
}

export const tokenBody = (base: string) => JSON.stringify({ grant_type: 'client_credentials', ...MGMT, audience: `${base.replace('127.0.0.1', 'localhost')}/api/v2/` });

/** A Management API token from the bootstrap client (the rig's server has no explicit issuer). */
export async function getToken(base: string): Promise<string> {
  const res = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tokenBody(base) });
  const json = (await res.json()) as { access_token?: string };
  assert.ok(json.access_token, JSON.stringify(json));
  return json.access_token;
}

export async function health(base: string): Promise<number> {
  // A refused connection is a dead process, and no answer within 5 s a hung one: 0, which no wait accepts.
  return (await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => ({ status: 0 }))).status;
}

export async function until(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
