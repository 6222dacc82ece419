import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';

/**
 * Kysely's values (the query builder, dialects, migrator, `sql`), from its CommonJS build. Every
 * value import of kysely goes through here (types are imported from 'kysely' directly), so the
 * process holds one copy of it. Why required and not imported: its ES build is 280 modules, and
 * when the sources run through tsx (tests, `npm run dev`, the mail thread started from them) each
 * module crosses to the loader thread and back: 0.7 s of CPU per process, against 0.14 s for the
 * CommonJS build (0.10 s without tsx, where the compiled server pays less than it did for the ES build).
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export const { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } = kysely;
