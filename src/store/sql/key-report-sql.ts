import type { Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { ArtifactKind, StaleHashes } from '../types.ts';
import type { Database } from './schema.ts';

/**
 * What `sesame secrets reseal` cannot redo (issue 10 §3): keyed hashes need their preimage, so rows
 * hashed by an older secret are only counted. A hash made with key id K starts with `K.`; anything
 * else (another key id, or bare hex from before key ids) is bound to an older secret. `substr`
 * rather than LIKE: key ids are base64url, and `_` is a LIKE wildcard.
 */
export async function staleHashes(db: Kysely<Database>, keyId: string, now: number): Promise<StaleHashes> {
  const prefix = `${keyId}.`;
  const other = (column: string) => sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) <> ${prefix}`;
  const [clients, codes, artifacts] = await Promise.all([
    db.selectFrom('clients').select((eb) => eb.fn.countAll<number>().as('n')).where('secret_hash', 'is not', null).where(other('secret_hash')).executeTakeFirstOrThrow(),
    db.selectFrom('otp_codes')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('expires_at').as('until')])
      .where('expires_at', '>', now).where(other('code_hash')).executeTakeFirstOrThrow(),
    db.selectFrom('artifacts')
      .select((eb) => ['kind', eb.fn.countAll<number>().as('n'), eb.fn.max('expires_at').as('until')])
      .where('expires_at', '>', now).where(other('id')).groupBy('kind').orderBy('kind').execute(),
  ]);
  const until = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    clientSecrets: Number(clients.n),
    codes: { count: Number(codes.n), expiresAt: until(codes.until) },
    artifacts: artifacts.map((r) => ({ kind: r.kind as ArtifactKind, count: Number(r.n), expiresAt: until(r.until) })),
  };
}
