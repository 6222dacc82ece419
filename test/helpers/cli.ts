import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SESAME_CLI } from './paths.ts';

export type Run = { code: number; stdout: string; stderr: string };

/**
 * The real CLI (`sesame …`) in its own process. The environment is the test's alone: no SESAME_*
 * or NODE_EXTRA_CA_CERTS leaks in from the runner, so a test trusts its CA only through `env`.
 */
export async function cli(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SESAME_') && k !== 'NODE_EXTRA_CA_CERTS'));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...SESAME_CLI, ...args], { env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
