import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Who claims: a delivery worker's id, and the heartbeat age past which a worker counts as gone. */
export interface ClaimOwner {
  id: string;
  /** Rows held by a worker whose last heartbeat is at or before this (epoch ms) are taken over. */
  staleBefore: number;
}

/**
 * The due rows a claim may take, oldest first (issue 13 §3): pending, due, and either unleased (or
 * the lease ran out) or leased by a worker that stopped beating. A row whose `lease_owner` is null
 * was leased by a version without heartbeats: only its lease's end frees it, so a rolling upgrade
 * never takes a row from a live older worker.
 */
export function dueRows(db: Kysely<Database>, now: number, limit: number, owner: ClaimOwner | undefined) {
  return db
    .selectFrom('outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => {
      const expired = eb('leased_until', '<=', now);
      if (!owner) return expired;
      const alive = eb
        .selectFrom('delivery_workers')
        .select('delivery_workers.id')
        .whereRef('delivery_workers.id', '=', 'outbox.lease_owner')
        .where('delivery_workers.heartbeat_at', '>', owner.staleBefore);
      return eb.or([expired, eb.and([eb('lease_owner', 'is not', null), eb.not(eb.exists(alive))])]);
    })
    // Oldest due first, in outbox_due's own order (status, next_attempt_at, rowid): the LIMIT stops
    // the index scan early. `ORDER BY id` sorted every due row first: O(backlog) per claim.
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit);
}

/** A worker's heartbeat: one upsert. */
export const heartbeatQuery = (db: Kysely<Database>, id: string, now: number) =>
  db.insertInto('delivery_workers').values({ id, heartbeat_at: now }).onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now })).compile();

/** A stopping worker's row, and rows of workers silent for an hour (crashed ones leave theirs). */
export const retireQuery = (db: Kysely<Database>, id: string, now: number) =>
  db.deleteFrom('delivery_workers').where((eb) => eb.or([eb('id', '=', id), eb('heartbeat_at', '<', now - 3_600_000)])).compile();
