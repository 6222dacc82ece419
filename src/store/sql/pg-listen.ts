import type { Pool, PoolClient } from 'pg';

/** The channel every reference-data write notifies, in its own transaction (queries.ts bumpVersion). */
export const REF_CHANNEL = 'sesame_ref_version';
/** After the listening connection is lost: wait this long before connecting again. */
const RETRY_MS = 1_000;

export interface RefListener {
  stop(): void;
}

/**
 * Holds one pooled connection that LISTENs on REF_CHANNEL, and hands each notified version to
 * `onVersion`. `onState(true)` once listening (after LISTEN, so no notification is missed between
 * the caller's next version read and the first notification), `onState(false)` as soon as the
 * connection fails; then it reconnects every RETRY_MS until stopped. PostgreSQL delivers a NOTIFY
 * only when its transaction commits, and to every listening session, this one's included.
 */
export function listenRefVersion(pool: Pool, onVersion: (v: number) => void, onState: (listening: boolean) => void): RefListener {
  let stopped = false;
  let client: PoolClient | undefined;
  let timer: NodeJS.Timeout | undefined;

  const drop = (err?: Error) => {
    onState(false);
    const c = client;
    client = undefined;
    c?.removeAllListeners('notification');
    c?.release(err ?? true);
    if (!stopped) {
      timer = setTimeout(connect, RETRY_MS);
      timer.unref();
    }
  };
  const connect = async () => {
    timer = undefined;
    if (stopped) return;
    try {
      const c = await pool.connect();
      if (stopped) return c.release();
      client = c;
      c.on('notification', (msg) => {
        const v = Number(msg.payload);
        if (msg.channel === REF_CHANNEL && Number.isFinite(v)) onVersion(v);
      });
      c.once('error', (err) => client === c && drop(err));
      c.once('end', () => client === c && drop());
      await c.query(`LISTEN ${REF_CHANNEL}`);
      if (client === c) onState(true);
    } catch (err) {
      if (client) drop(err as Error);
      else if (!stopped) {
        timer = setTimeout(connect, RETRY_MS);
        timer.unref();
      }
    }
  };
  void connect();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (client) {
        onState(false);
        const c = client;
        client = undefined;
        c.removeAllListeners('notification');
        // Back to the pool un-listened would leak notifications to its next user: close it.
        c.release(true);
      }
    },
  };
}
