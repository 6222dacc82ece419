import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO } from '../helpers/paths.ts';

const BIN = join(REPO, 'bin/sesame.js');

/** Every src/**.ts file whose dist/**.js is missing or older: dist/ must be rebuilt. */
function staleOutputs(): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const out = join(REPO, 'dist', relative(join(REPO, 'src'), path)).replace(/\.ts$/, '.js');
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(relative(REPO, path));
      }
    }
  };
  walk(join(REPO, 'src'));
  return stale;
}

/**
 * What `npm install -g` or `npx sesame` runs is bin/sesame.js → dist/, compiled by tsc
 * (`npm run build`, which npm ci's `prepare` step runs): every other CLI test runs src/ as the
 * tests' own compiled copy (scripts/build-tests.mjs) or through tsx, so a module that only works there (a
 * `.ts` path left in a worker or an import, a file tsconfig.build.json leaves out) would ship
 * broken. dist/ is rebuilt here when it is missing or older than src/.
 */
describe('the shipped bin/sesame.js (dist/)', () => {
  const dirs: string[] = [];
  let child: ChildProcess | undefined;

  before(() => {
    const stale = staleOutputs();
    if (stale.length === 0) return;
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json')], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, `dist/ is stale (${stale.slice(0, 3).join(', ')}…) and \`npm run build\` failed:\n${r.stdout}${r.stderr}`);
    assert.deepEqual(staleOutputs(), [], 'dist/ is still stale after `npm run build`');
  });
  after(() => {
    child?.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs by its shebang, without tsx: --help', () => {
    // Executed directly, as npm's bin link does: the shebang's node flags must work too.
    const r = spawnSync(BIN, ['--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: sesame/);
  });

  it('starts in an empty directory and signs a newcomer in with the printed commands; SIGTERM stops it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sesame-bin-'));
    dirs.push(cwd);
    child = spawn(BIN, ['start'], { cwd, env: { PATH: process.env.PATH ?? '', SESAME_PORT: '0', SESAME_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters = new Set<() => void>();
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const w of waiters) w();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const waitFor = (re: RegExp, ms = 30_000) =>
      new Promise<RegExpMatchArray>((ok, fail) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`timed out waiting for ${re}; output:\n${out.slice(-3000)}`));
        }, ms);
        waiters.add(check);
        check();
      });

    const [, base] = await waitFor(/Sesame is listening on (http:\/\/\S+)/);
    await waitFor(/2\. Exchange it/);
    const health = await fetch(`${base}/health`);
    assert.deepEqual(await health.json(), { status: 'ok', database: 'ok' });
    const login = await fetch(`${base}/.well-known/openid-configuration`);
    assert.equal(login.status, 200);

    const startBody = out.match(/curl -s \S+\/passwordless\/start .* -d '(\{.*\})'/)![1]!;
    const tokenBody = out.match(/curl -s \S+\/oauth\/token .* -d '(\{"grant_type":"http:\/\/auth0\.com\/oauth\/grant-type\/passwordless\/otp".*\})'/)![1]!;
    const started = await fetch(`${base}/passwordless/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: startBody });
    assert.equal(started.status, 200, await started.clone().text());
    // Development mode prints the message to the log, from the mail thread: that thread runs from dist/ too.
    const [, code] = await waitFor(/"to":"you@example\.com"[^\n]*?"text":"[^"\n]*?\b(\d{6})\b/);
    const exchanged = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tokenBody.replace('CODE', code!) });
    const tokens = (await exchanged.json()) as Record<string, unknown>;
    assert.equal(exchanged.status, 200, JSON.stringify(tokens));
    assert.equal(typeof tokens.id_token, 'string');

    const exited = new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
    assert.doesNotMatch(out, /tsx|\.ts:\d+/, 'nothing in dist/ refers to TypeScript sources');
  });
});
