import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { CommandIO } from './types.ts';

/** The validated configuration, or undefined after printing every error (the caller exits). */
export function commandConfig(io: CommandIO): Config | undefined {
  try {
    return loadConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}
