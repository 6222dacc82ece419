import { createInterface } from 'node:readline/promises';
import type { CommandIO } from './types.ts';

/**
 * Asks for a yes on a terminal (the prompt goes to stderr, so stdout stays the command's result).
 * Never prompts without a terminal: a pipeline must pass --yes instead (enforce, import).
 */
export async function confirm(io: CommandIO, question: string): Promise<boolean> {
  if (io.stdin.isTTY !== true) {
    io.stderr.write('Not on a terminal: pass --yes to confirm. Nothing changed.\n');
    return false;
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = (await rl.question(question)).trim().toLowerCase();
    if (answer === 'y' || answer === 'yes') return true;
    io.stderr.write('Not confirmed. Nothing changed.\n');
    return false;
  } finally {
    rl.close();
  }
}
