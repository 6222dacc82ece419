import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SESAME_CLI } from '../helpers/paths.ts';

// tsx is resolved from the repository, since the CLI runs in an empty temporary directory.
const ENTRY = SESAME_CLI;

interface Running {
  child: ChildProcess;
  out: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts the real CLI as a newcomer would (`sesame start`), in an empty working directory. */
function startCli(cwd: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [...ENTRY, 'start'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', SESAME_PORT: '0', SESAME_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out.push(d.toString());
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    out,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.join('').match(re);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${re}; output:\n${out.join('').slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('the sesame CLI', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sesame-cli-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints usage for --help', () => {
    const r = spawnSync(process.execPath, [...ENTRY, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: sesame/);
    for (const v of ['SESAME_PORT', 'SESAME_ISSUER', 'SESAME_DATABASE_URL', 'SESAME_SECRET', 'SESAME_SMTP_URL', 'SESAME_START_LIMIT_PER_HOUR']) assert.match(r.stdout, new RegExp(v));
  });

  it('lists every configuration error and exits non-zero', () => {
    const r = spawnSync(process.execPath, [...ENTRY, 'start'], {
      encoding: 'utf8',
      cwd: tmp(),
      env: { PATH: process.env.PATH ?? '', SESAME_PORT: 'abc', SESAME_SMTP_URL: 'http://nope', SESAME_SECRET: 'short', SESAME_ISSUER: 'ftp://x' },
    });
    assert.equal(r.status, 1);
    for (const v of ['SESAME_PORT', 'SESAME_SMTP_URL', 'SESAME_SECRET', 'SESAME_ISSUER']) assert.match(r.stderr, new RegExp(v));
  });

  it('first start: creates ./data/sesame.db, prints working curl commands; a newcomer signs in; SIGTERM stops cleanly', async () => {
    const cwd = tmp();
    const cli = startCli(cwd);
    try {
      const [, base] = await cli.waitFor(/Sesame is listening on (http:\/\/\S+)/);
      await cli.waitFor(/2\. Exchange it/);
      assert.ok(existsSync(join(cwd, 'data/sesame.db')), 'the SQLite file is created');
      assert.ok(existsSync(join(cwd, 'data/secret')), 'the generated secret is persisted');
      const text = cli.out.join('');
      assert.match(text, /development mode/i, 'no SMTP provider is announced');
      // Issue 12: the banner names the dashboard and how to become its administrator.
      assert.match(text, /Admin dashboard: http:\/\/\S+\/admin\//);
      assert.match(text, /No administrator yet\. Restart with SESAME_ADMIN_EMAILS=.*\n.*npx sesame admin add you@example\.com/);
      const startBody = text.match(/curl -s \S+\/passwordless\/start .* -d '(\{.*\})'/)![1]!;
      const tokenBody = text.match(/curl -s \S+\/oauth\/token .* -d '(\{"grant_type":"http:\/\/auth0\.com\/oauth\/grant-type\/passwordless\/otp".*\})'/)![1]!;

      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok', database: 'ok' });

      const mgmtBody = text.match(/token for the Management API:\s+curl -s \S+ .* -d '(\{.*\})'/)![1]!;
      const mgmt = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: mgmtBody });
      const mgmtToken = ((await mgmt.json()) as { access_token: string }).access_token;
      const settings = await fetch(`${base}/api/v2/tenants/settings`, { headers: { authorization: `Bearer ${mgmtToken}` } });
      assert.equal(settings.status, 200, 'the printed management client works');

      const started = await fetch(`${base}/passwordless/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: startBody });
      assert.equal(started.status, 200, await started.clone().text());
      // Development mode prints the message, code included, to the log.
      const [, code] = await cli.waitFor(/"to":"you@example\.com"[^\n]*?"text":"[^"\n]*?\b(\d{6})\b/);
      const exchanged = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tokenBody.replace('CODE', code!) });
      const tokens = (await exchanged.json()) as Record<string, unknown>;
      assert.equal(exchanged.status, 200, JSON.stringify(tokens));
      assert.equal(typeof tokens.id_token, 'string');
      assert.equal(tokens.token_type, 'Bearer');

      // Secrets must not reach the structured log (the banner prints them once, on stdout, by design).
      const secret = JSON.parse(startBody).client_secret as string;
      const logLines = text.split('\n').filter((l) => l.startsWith('{'));
      assert.ok(logLines.length > 0);
      assert.ok(logLines.every((l) => !l.includes(secret)), 'no log line contains the client secret');

      cli.child.kill('SIGTERM');
      assert.equal(await exited(cli.child), 0);
    } finally {
      cli.child.kill('SIGKILL');
    }

    // Second start on the same directory: same data, no new secrets printed.
    const again = startCli(cwd);
    try {
      await again.waitFor(/Sesame is listening on/);
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(again.out.join(''), /client_secret:/);
      again.child.kill('SIGTERM');
      assert.equal(await exited(again.child), 0);
    } finally {
      again.child.kill('SIGKILL');
    }
  });
});
