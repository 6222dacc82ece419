import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Backend = 'sqlite' | 'postgres';

export const PG_ADMIN = process.env.SESAME_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const inCI = process.env.CI === 'true';
let pgState: Promise<string | null> | undefined;

/** null when PostgreSQL answers, else why not. */
function pgUnavailable(): Promise<string | null> {
  pgState ??= (async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('select 1');
      return null;
    } catch (err) {
      return (err as Error).message;
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return pgState;
}

/**
 * The backends an e2e file runs against (kysely's DIALECTS loop): SQLite always, PostgreSQL when it
 * answers. On a laptop without PostgreSQL its suites skip loudly; in CI (CI=true) they fail instead.
 * SESAME_TEST_BACKENDS=sqlite narrows the matrix.
 */
export async function backendMatrix(): Promise<{ backend: Backend; skip: string | false }[]> {
  const wanted = wantedBackends();
  const out: { backend: Backend; skip: string | false }[] = [];
  if (wanted.includes('sqlite')) out.push({ backend: 'sqlite', skip: false });
  if (wanted.includes('postgres')) {
    const why = await pgUnavailable();
    if (why && inCI) throw new Error(`PostgreSQL is required in CI but unavailable at ${PG_ADMIN}: ${why}`);
    if (why) process.stderr.write(`\n!!! SKIPPING PostgreSQL suites: ${PG_ADMIN} unavailable (${why})\n\n`);
    out.push({ backend: 'postgres', skip: why ? `PostgreSQL unavailable: ${why}` : false });
  }
  return out;
}

/** The backends SESAME_TEST_BACKENDS asks for (both by default). */
export const wantedBackends = (): Backend[] => (process.env.SESAME_TEST_BACKENDS ?? 'sqlite,postgres').split(',') as Backend[];

/** A fresh, empty database URL for one server; `drop` removes it. */
export async function freshDatabase(backend: Backend): Promise<{ url: string; drop(): Promise<void> }> {
  if (backend === 'sqlite') return { url: 'sqlite::memory:', drop: async () => {} };
  const name = `sesame_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    drop: () => dropDatabase(name),
  };
}

/**
 * pg's Pool.end() resolves before its sockets are gone; dropping the database at once would kill
 * them and crash the run with an unhandled client error. Wait for them to leave first.
 */
export async function dropDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (rows[0]?.n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
