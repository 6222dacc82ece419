import type { Kysely } from 'kysely';
import type { CodeKey, CodeRecord } from '../types.ts';
import type { Executor } from './executor.ts';
import { sql } from './kysely.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';
import { type TurnBatch, lookupByPosition } from './turn-batch.ts';

/** A code as the UPDATE returns it; `params` is still JSON text. */
export type CodeRow = Omit<CodeRecord, 'params'> & { params: string };
type Db = Kysely<Database>;

const CODE_COLUMNS = ['connection_id', 'identifier', 'client_id', 'code_hash', 'expires_at', 'attempts', 'params', 'created_at'] as const;
const codeIdentity = (k: CodeKey) => `${k.connection_id}\0${k.identifier}\0${k.client_id}`;
const keyArrays = (keys: CodeKey[]) => ({
  connections: keys.map((k) => k.connection_id), identifiers: keys.map((k) => k.identifier), clients: keys.map((k) => k.client_id),
});
const KEYS = sql`unnest(${p('connections')}::text[], ${p('identifiers')}::text[], ${p('clients')}::text[]`;
const JOIN = sql`c.connection_id = k.connection_id and c.identifier = k.identifier and c.client_id = k.client_id`;

/**
 * PostgreSQL: the attempt slots of one event-loop turn's guesses (turn-batch.ts) in one
 * UPDATE … RETURNING, atomic per row as `takeAttempt`'s single statement is: the increment and the
 * limit check happen under the row's lock. Two guesses at one code in the same turn take their slots
 * in two statements, in the order they came (`distinct`): one UPDATE changes a row only once.
 */
export function takeAttemptBatch(db: Db, x: Executor): TurnBatch<CodeKey & { max: number }, CodeRow> {
  const query = template<'connections' | 'identifiers' | 'clients' | 'maxes'>(
    sql`update otp_codes c set attempts = c.attempts + 1
      from ${KEYS}, ${p('maxes')}::int[]) with ordinality as k(connection_id, identifier, client_id, max, i)
      where ${JOIN} and c.attempts < k.max
      returning k.i, ${sql.join(CODE_COLUMNS.map((col) => sql.ref(`c.${col}`)))}`.compile(db),
  );
  return lookupByPosition<CodeKey & { max: number }, CodeRow & { i: unknown }, CodeRow>(
    x,
    (keys) => query({ ...keyArrays(keys), maxes: keys.map((k) => k.max) }),
    ({ i: _i, ...row }) => row,
    { distinct: codeIdentity },
  );
}

/**
 * PostgreSQL: the consumptions of one turn's right guesses in one DELETE … RETURNING. A row is
 * deleted once however many keys join it, and only that key's position comes back: of two callers
 * consuming one code in the same turn, exactly one wins, as with `consumeCode`'s single statement.
 */
export function consumeCodeBatch(db: Db, x: Executor): TurnBatch<CodeKey & { code_hash: string }, true> {
  const query = template<'connections' | 'identifiers' | 'clients' | 'hashes'>(
    sql`delete from otp_codes c
      using ${KEYS}, ${p('hashes')}::text[]) with ordinality as k(connection_id, identifier, client_id, code_hash, i)
      where ${JOIN} and c.code_hash = k.code_hash
      returning k.i`.compile(db),
  );
  return lookupByPosition<CodeKey & { code_hash: string }, unknown, true>(x, (keys) => query({ ...keyArrays(keys), hashes: keys.map((k) => k.code_hash) }), () => true as const);
}
