import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { mgmt } from '../helpers/management.ts';
import { SESAME_CLI } from '../helpers/paths.ts';

const FLAG = 'enforce_client_authentication_on_passwordless_start';
/**
 * Debian's util-linux `script` gives its child a pseudo-terminal. Without it this file skips on a
 * laptop, loudly, but fails in CI (CI=true), like PostgreSQL in test/helpers/backends.ts: a CI run
 * that silently stopped testing the prompts would look green.
 */
const noScript = spawnSync('script', ['--version']).status === 0 ? false : 'util-linux `script` is not installed';
if (noScript && process.env.CI === 'true') throw new Error(`${noScript}: the prompt tests must run in CI (apt-get install util-linux)`);
if (noScript) process.stderr.write(`\n!!! SKIPPING confirmation prompt tests: ${noScript}\n\n`);

type Run = { code: number | null; output: string; prompted: boolean };

/**
 * The real CLI in its own process. With `tty`, it runs under `script -qec … /dev/null`, so its stdin,
 * stdout and stderr are a pseudo-terminal: `answer` is typed once the `[y/N]` prompt shows. Without
 * `tty`, stdin is a pipe that stays open, so a prompt would hang the command until the timeout.
 * Credentials come from the environment (the local configuration), not the command line.
 */
function cli(args: string[], env: Record<string, string>, opts: { tty: boolean; answer?: string }): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SESAME_')));
  const argv = [process.execPath, ...SESAME_CLI, ...args];
  const child = opts.tty
    ? spawn('script', ['-qec', argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null'], { env: { ...clean, ...env, TERM: 'dumb' } })
    : spawn(argv[0]!, argv.slice(1), { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    let prompted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; output so far:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!prompted && output.includes('[y/N]')) {
        prompted = true;
        if (opts.answer !== undefined) child.stdin!.write(opts.answer);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin!.destroy();
      resolve({ code, output, prompted });
    });
  });
}

/**
 * Issue 4 §2–3: `sesame enforce` and `sesame import` ask for confirmation on a terminal, for real
 * (a pseudo-terminal), and never prompt without one.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`confirmation prompts on a terminal [${backend}]`, { skip: skip || noScript }, () => {
    let srv: TestServer;
    let env: Record<string, string>;
    let dir: string;
    const flag = async () => ((await mgmt(srv, 'GET', '/tenants/settings')).flags as Record<string, boolean>)[FLAG];
    const clientNames = async () => ((await mgmt(srv, 'GET', '/clients')) as { name: string }[]).map((c) => c.name);

    before(async () => {
      srv = await bootServer({ backend });
      env = { SESAME_ISSUER: srv.issuer, SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret };
      dir = mkdtempSync(join(tmpdir(), 'sesame-prompt-'));
    });
    after(async () => {
      await srv?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('enforce: "n" changes nothing (exit 2), "y" turns it on (exit 0), --off asks again', async () => {
      const question = `Turn ${FLAG} ON at ${srv.issuer}? [y/N]`;
      const no = await cli(['enforce', '--force'], env, { tty: true, answer: 'n\n' });
      assert.equal(no.code, 2, no.output);
      assert.ok(no.output.includes(question), no.output);
      assert.match(no.output, /Not confirmed\. Nothing changed\./);
      assert.doesNotMatch(no.output, /Enforcement turned on/);
      assert.equal(await flag(), false);

      const yes = await cli(['enforce', '--force'], env, { tty: true, answer: 'y\n' });
      assert.equal(yes.code, 0, yes.output);
      assert.ok(yes.output.includes(question), yes.output);
      assert.match(yes.output, /Enforcement turned on at /);
      assert.equal(await flag(), true);

      const off = await cli(['enforce', '--off'], env, { tty: true, answer: 'yes\n' });
      assert.equal(off.code, 0, off.output);
      assert.ok(off.output.includes(`Turn ${FLAG} OFF at ${srv.issuer}? [y/N]`), off.output);
      assert.match(off.output, /Enforcement turned off at /);
      assert.equal(await flag(), false);
    });

    it('import: lists the changes, then "n" changes nothing (exit 2) and "y" applies them (exit 0)', async () => {
      const file = join(dir, 'tenant.yaml');
      writeFileSync(file, 'clients:\n  - name: Prompted App\n    app_type: spa\n');
      const question = `Apply 1 change(s) to ${srv.issuer}? [y/N]`;
      const no = await cli(['import', file], env, { tty: true, answer: 'n\n' });
      assert.equal(no.code, 2, no.output);
      assert.match(no.output, /create client Prompted App/);
      assert.ok(no.output.includes(question), no.output);
      assert.match(no.output, /Not confirmed\. Nothing changed\./);
      assert.ok(!(await clientNames()).includes('Prompted App'));

      const yes = await cli(['import', file], env, { tty: true, answer: 'y\n' });
      assert.equal(yes.code, 0, yes.output);
      assert.ok(yes.output.includes(question), yes.output);
      assert.match(yes.output, /Imported .* 1 change\(s\)/);
      assert.ok((await clientNames()).includes('Prompted App'));
    });

    it('without a terminal and without --yes both refuse at once, without prompting (exit 2)', async () => {
      const file = join(dir, 'other.yaml');
      writeFileSync(file, 'clients:\n  - name: Piped App\n    app_type: spa\n');
      const enforce = await cli(['enforce', '--force'], env, { tty: false });
      assert.equal(enforce.code, 2, enforce.output);
      assert.equal(enforce.prompted, false);
      assert.match(enforce.output, /Not on a terminal: pass --yes to confirm\. Nothing changed\./);
      assert.equal(await flag(), false);

      const imp = await cli(['import', file], env, { tty: false });
      assert.equal(imp.code, 2, imp.output);
      assert.equal(imp.prompted, false);
      assert.match(imp.output, /Not on a terminal: pass --yes to confirm\. Nothing changed\./);
      assert.ok(!(await clientNames()).includes('Piped App'));
    });
  });
}
