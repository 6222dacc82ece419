import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { main } from '../../src/cli.ts';
import type { CommandIO } from '../../src/commands/types.ts';
import { REPO, SESAME_CLI } from '../helpers/paths.ts';

const DASHBOARD_INDEX = new URL('../../admin/dist/index.html', import.meta.url);

const ENTRY = SESAME_CLI;
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** The CLI in-process with captured output: for what must answer before anything is opened. */
async function inProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (c: Buffer, _e, done) => (add(c.toString()), done()) });
  const io: CommandIO = { env: {}, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: process.stdin };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The real CLI in `cwd` with only PATH and `env`, as a newcomer runs it (no terminal). */
async function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...ENTRY, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function serve(cwd: string, env: Record<string, string>): { child: ChildProcess; out: () => string; base: Promise<string> } {
  const child = spawn(process.execPath, [...ENTRY, 'start'], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const base = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner; output:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Sesame is listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  return { child, out: () => out, base };
}
const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
};

describe('the CLI in the first hour (issue 11)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sesame-first-hour-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('--version and -v print the version', async () => {
    for (const flag of ['--version', '-v', 'version']) {
      const r = await inProcess([flag]);
      assert.deepEqual(r, { code: 0, stdout: `sesame ${VERSION}\n`, stderr: '' });
    }
  });

  it('every command answers --help with its options and an example, and does nothing else', async () => {
    for (const command of ['start', 'migration-report', 'enforce', 'logs', 'export', 'import']) {
      for (const flag of ['--help', '-h']) {
        const r = await inProcess([command, flag]);
        assert.equal(r.code, 0, `${command} ${flag}: exit 0, not a running server (-1)`);
        assert.match(r.stdout, new RegExp(`^Usage: sesame ${command}`), command);
        assert.match(r.stdout, /\n  --?\w|takes no options/, `${command} lists its options`);
        assert.match(r.stdout, /\nExamples?:\n {2}(\S+=\S+ )*sesame /, `${command} shows an example`);
      }
    }
    const start = await inProcess(['start', '--port', '4000']);
    assert.equal(start.code, 2, 'start refuses arguments instead of serving');
    assert.match(start.stderr, /takes no arguments but --workers N/);
  });

  it('a taken port is one line, exit 1, and nothing is created', async () => {
    const cwd = tmp();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '::', r));
    try {
      const port = (blocker.address() as { port: number }).port;
      const r = await run(cwd, ['start'], { SESAME_PORT: String(port) });
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /already in use \(EADDRINUSE\)/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(existsSync(join(cwd, 'data')), false, 'no database, no secret');
    } finally {
      blocker.close();
    }
  });

  it('prints the first-start banner as one block: what the start logs (development mail) comes before it', async () => {
    const cwd = tmp();
    const s = serve(cwd, { SESAME_PORT: '0' });
    try {
      await s.base;
      // The banner's last line, and the mail thread's development-mode line wherever it lands.
      const end = Date.now() + 30_000;
      while (!(/\n2\. Exchange it[^\n]*\n {2}curl [^\n]*\n/.test(s.out()) && /development mode, messages are printed/.test(s.out()))) {
        assert.ok(Date.now() < end, `banner and development-mode line within 30 s:\n${s.out()}`);
        await sleep(50);
      }
      const lines = s.out().split('\n');
      const first = lines.findIndex((l) => l.startsWith('Sesame is listening on'));
      const last = lines.findIndex((l, i) => i > first && l.startsWith('2. Exchange it')) + 1;
      const isLog = (l: string) => l.startsWith('{');
      assert.deepEqual(lines.slice(first, last + 1).filter(isLog), [], 'no log line inside the banner');
      const dev = lines.findIndex((l) => isLog(l) && l.includes('development mode, messages are printed to the log'));
      assert.ok(dev >= 0 && dev < first, `the development-mode line comes before the banner:\n${s.out()}`);
      assert.deepEqual(lines.slice(last + 1).filter(isLog), [], 'nor right after it: the start has said everything');
    } finally {
      await stop(s.child);
    }
  });

  it('after a start the client commands need no flags; a second start for another issuer leaves the first working', async () => {
    const cwd = tmp();
    const a = serve(cwd, { SESAME_PORT: '0' });
    try {
      const base = await a.base;
      const port = new URL(base).port;
      const local = join(cwd, 'data/local.json');
      assert.equal(statSync(local).mode & 0o777, 0o600);
      const remembered = JSON.parse(readFileSync(local, 'utf8'));
      assert.equal(remembered.issuer, `${base}/`);
      assert.match(a.out(), new RegExp(`client_id: +${remembered.client_id}`), 'the generated Management client');

      // Dual stack by default: IPv6 loopback and IPv4 loopback both answer.
      for (const host of ['[::1]', '127.0.0.1']) assert.equal((await fetch(`http://${host}:${port}/health`)).status, 200, host);
      const home = await fetch(`${base}/`);
      assert.equal(home.status, 200);
      assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
      const page = await home.text();
      assert.match(page, new RegExp(`Sesame ${VERSION.replaceAll('.', '\\.')}`));
      for (const link of ['/.well-known/openid-configuration', '/health']) assert.ok(page.includes(`href="${link}"`), link);
      // npm install's prepare step builds the dashboard; the home page links to it only when built.
      assert.equal(page.includes('href="/admin"'), existsSync(DASHBOARD_INDEX), 'dashboard link iff admin/dist is built');

      const report = await run(cwd, ['migration-report']);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /ready/i);

      const on = await run(cwd, ['enforce', '--yes']);
      assert.equal(on.code, 0, on.stderr);
      const hint = /Roll back with: (sesame enforce .*)$/m.exec(on.stdout);
      assert.ok(hint, on.stdout);
      assert.equal(hint[1], 'sesame enforce --off --yes', 'no terminal here: the printed command carries --yes');
      const off = await run(cwd, hint[1]!.split(' ').slice(1));
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /Enforcement turned off/);

      // Another start on the same database, for another issuer, then gone.
      const b = serve(cwd, { SESAME_PORT: '0', SESAME_ISSUER: 'http://127.0.0.1:1/' });
      try {
        await b.base;
      } finally {
        await stop(b.child);
      }
      // The first server still grants and accepts Management tokens (the export needs both), and
      // --domain takes the URL as it is printed.
      const exported = await run(cwd, ['export', '--domain', base, '--format', 'json']);
      assert.equal(exported.code, 0, exported.stderr);
      assert.ok(Array.isArray(JSON.parse(exported.stdout).clients));
    } finally {
      await stop(a.child);
    }
  });
});
