import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESAME_CLI } from './paths.ts';

const ENTRY = [...SESAME_CLI, 'start'];

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote (stdout and stderr), for assertions on its logs. */
  output(): string;
  /** The exit code once it has exited, else undefined. */
  exitCode(): number | null | undefined;
  /** SIGTERM, then the exit code; cleans the working directory. */
  stop(): Promise<number | null>;
}

/**
 * `sesame start` in a process of its own, so that a crash is visible as an exit rather than taking
 * the test runner with it (issue 11; issue 13's fault tests reuse it). Port 0; the URL is read from
 * the banner. The environment is the test's alone, apart from PATH.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 30_000, args: string[] = []): Promise<ServerProcess> {
  const cwd = mkdtempSync(join(tmpdir(), 'sesame-proc-'));
  const child = spawn(process.execPath, [...ENTRY, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', SESAME_PORT: '0', SESAME_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let exit: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r((exit = code))));
  const listening = new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs} ms:\n${chunks.join('').slice(-3000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      chunks.push(d.toString());
      const m = /listening on (http:\/\/\S+) /.exec(chunks.join(''));
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${chunks.join('').slice(-3000)}`));
    });
  });
  let baseUrl: string;
  try {
    baseUrl = await listening;
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
    throw err;
  }
  return {
    child,
    baseUrl,
    output: () => chunks.join(''),
    exitCode: () => exit,
    async stop() {
      if (exit === undefined) child.kill('SIGTERM');
      const code = await exited;
      rmSync(cwd, { recursive: true, force: true });
      return code;
    },
  };
}
