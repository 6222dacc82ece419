import type { CompiledQuery, Kysely, RawBuilder } from 'kysely';
import type { Rows, RowsInsert } from './executor.ts';
import { sql } from './kysely.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';

/**
 * PostgreSQL: a table's INSERT reading one array per field, so that a group commit (pg-executor.ts)
 * writes the rows of every table in ONE statement whatever their number: data-modifying CTEs run
 * as one atomic statement, one round trip instead of BEGIN, an INSERT per table and COMMIT, and
 * its text depends only on which tables take part (a handful of prepared statements).
 */
export interface ArrayInsert {
  /** Names the CTE and the statement's parameters (`<name>.<field>`). */
  name: string;
  fields: readonly string[];
  /** The INSERT, given `from unnest(…) as r(<fields>)`. */
  sql: RawBuilder<unknown>;
}

/** A template's array parameter, cast to its column's type for unnest. */
export const arrayParam = (name: string, type = 'text'): RawBuilder<unknown> => sql`${p(name)}::${sql.raw(type)}[]`;

/** `from unnest($n::type[], …) as r(field, …)`: each field's array cast to its column type (text unless named). */
export function unnestFrom(name: string, fields: readonly string[], types: Record<string, string> = {}): RawBuilder<unknown> {
  const arrays = fields.map((f) => arrayParam(`${name}.${f}`, types[f]));
  return sql`from unnest(${sql.join(arrays)}) as r(${sql.join(fields.map((f) => sql.ref(f)))})`;
}

/** Marks `insert` as having an array form (used on PostgreSQL only). */
export function withArrays(insert: RowsInsert, arrays: ArrayInsert): RowsInsert {
  insert.arrays = arrays;
  return insert;
}

/**
 * The group commit's statement for these tables' rows, or undefined when one of them has no array
 * form (the executor then uses a transaction). Compiled once per set of tables.
 */
export function arrayAppender(db: Kysely<Database>): (tables: Rows[]) => CompiledQuery | undefined {
  const templates = new Map<string, (args: Record<string, unknown>) => CompiledQuery>();
  return (tables) => {
    if (!tables.every((t) => t.insert.arrays)) return undefined;
    const specs = tables.map((t) => t.insert.arrays!);
    const id = specs.map((s) => s.name).join(',');
    let tpl = templates.get(id);
    if (!tpl) {
      const ctes = specs.map((s, i) => sql`${sql.id(`t${i}`)} as (${s.sql})`);
      tpl = template(sql`with ${sql.join(ctes)} select 1`.compile(db));
      templates.set(id, tpl);
    }
    const args: Record<string, unknown> = {};
    tables.forEach(({ rows }, i) => {
      const spec = specs[i]!;
      for (const f of spec.fields) args[`${spec.name}.${f}`] = rows.map((r) => r[f] ?? null);
    });
    return tpl(args);
  };
}
