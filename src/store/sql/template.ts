import type { CompiledQuery } from 'kysely';

const MARK = '\u0000sesame-param:';

/**
 * A named placeholder for a query built once (see `template`). Typed as the column's type so the
 * Kysely builder still type-checks the query; at run time it is a marker string.
 */
export const p = <T = string>(name: string): T => `${MARK}${name}` as unknown as T;

/** Every template's SQL text: a fixed, bounded set, worth preparing once per connection (pg-executor.ts). */
const TEMPLATE_SQL = new Set<string>();
export const isTemplateSql = (sql: string): boolean => TEMPLATE_SQL.has(sql);

/**
 * Building and compiling a Kysely query costs more than running it on SQLite. Hot queries are built
 * and compiled once per store (so once per dialect: `?` or `$n`), and each call only binds new values:
 * the marker parameters are replaced by name, constant parameters stay. Same SQL text, so the
 * prepared-statement cache hits too.
 */
export function template<K extends string = string>(compiled: CompiledQuery): (args: Record<K, unknown>) => CompiledQuery {
  TEMPLATE_SQL.add(compiled.sql);
  const slots = compiled.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? v.slice(MARK.length) : undefined));
  if (!slots.some((s) => s !== undefined)) return () => compiled;
  return (args) => ({
    ...compiled,
    parameters: slots.map((name, i) => {
      if (name === undefined) return compiled.parameters[i];
      const v = args[name as K];
      if (v === undefined) throw new Error(`query parameter ${name} is missing`);
      return v;
    }),
  });
}
