import { parseAge, pruneLogsBefore } from '../logs/retention.ts';
import { openStore } from '../store/index.ts';
import { commandConfig } from './config.ts';
import type { Command } from './types.ts';

const USAGE = `Usage: sesame logs prune --older-than <n>s|m|h|d

Deletes the logs older than the age from the configured database (SESAME_DATABASE_URL) now, in
the same batches as the hourly retention job, and prints how many. Exit 0 done, 2 bad usage.

  --older-than AGE         A whole number followed by s, m, h or d

Example:
  sesame logs prune --older-than 30d
`;

/**
 * `sesame logs prune --older-than 30d`: deletes logs older than the age from the configured database,
 * in the same bounded batches as the hourly retention job, and prints how many were deleted.
 * Exit 0 on success, 2 on bad usage or configuration.
 */
export const logsCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    let age: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--older-than') age = rest[++i];
      else if (a.startsWith('--older-than=')) age = a.slice('--older-than='.length);
      else {
        io.stderr.write(`Unknown option "${a}".\n${USAGE}`);
        return 2;
      }
    }
    if (sub !== 'prune' || age === undefined) {
      io.stderr.write(USAGE);
      return 2;
    }
    const ms = parseAge(age);
    if (ms === undefined) {
      io.stderr.write(`--older-than must be a whole number followed by s, m, h or d (got "${age}").\n${USAGE}`);
      return 2;
    }
    const config = commandConfig(io);
    if (!config) return 2;
    const { store } = await openStore(config.databaseUrl);
    try {
      const deleted = await pruneLogsBefore(store, Date.now() - ms);
      io.stdout.write(`Deleted ${deleted} log${deleted === 1 ? '' : 's'} older than ${age}.\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
