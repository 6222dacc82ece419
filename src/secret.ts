import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/schema.ts';

/**
 * SESAME_SECRET, or one generated on first start and kept in `<data dir>/secret` (mode 0600), so that
 * hashes and encrypted keys stay valid across restarts. Without a data directory (in-memory SQLite
 * only) a generated secret lives as long as the database: the process.
 */
export function resolveSecret(config: Config, dataDir: string | undefined, log: FastifyBaseLogger): string {
  if (config.secret) return config.secret;
  if (dataDir) {
    const file = join(dataDir, 'secret');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    log.warn({ file }, 'SESAME_SECRET is not set: generated one and saved it; set SESAME_SECRET in production');
    return secret;
  }
    return randomBytes(32).toString('base64url');
}
