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
  const existing = existingSecret(config, dataDir);
  if (existing) return existing;
  if (dataDir) {
    const file = join(dataDir, 'secret');
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    log.warn({ file }, 'SESAME_SECRET is not set: generated one and saved it; set SESAME_SECRET in production');
    return secret;
  }
  return randomBytes(32).toString('base64url');
}

/** SESAME_SECRET, or the one generated earlier beside the database; undefined if neither exists. */
export function existingSecret(config: Config, dataDir: string | undefined): string | undefined {
  if (config.secret) return config.secret;
  const file = dataDir && join(dataDir, 'secret');
  return file && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
