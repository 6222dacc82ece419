/**
 * Auth0's list conventions, shared by every `/api/v2` list (spec §5): `page` (0-based), `per_page`
 * (default 50, at most 100), `include_totals` → `{start, limit, length, total, <key>: […]}`,
 * otherwise a bare array; and the `fields` / `include_fields` projection.
 */

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 100;

/** Querystring schema properties for paging (coerced from text by the query validator). */
export const pagingQuery = {
  page: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  per_page: { type: 'integer', minimum: 0, maximum: MAX_PER_PAGE },
  include_totals: { type: 'boolean' },
} as const;

/** Querystring schema properties for the projection. */
export const fieldsQuery = {
  fields: { type: 'string', maxLength: 2000 },
  include_fields: { type: 'boolean' },
} as const;

export interface PagingInput {
  page?: number;
  per_page?: number;
  include_totals?: boolean;
}

export interface Paging {
  page: number;
  perPage: number;
  includeTotals: boolean;
}

export function paging(q: PagingInput): Paging {
  return { page: q.page ?? 0, perPage: q.per_page ?? DEFAULT_PER_PAGE, includeTotals: q.include_totals === true };
}

export type ListBody<T> = T[] | ({ start: number; limit: number; length: number; total: number } & Record<string, T[] | number>);

/** The response of a list: the items alone, or Auth0's totals envelope under `key`. */
export function listBody<T>(key: string, items: T[], total: number, p: Paging): ListBody<T> {
  if (!p.includeTotals) return items;
  return { start: p.page * p.perPage, limit: p.perPage, length: items.length, total, [key]: items };
}

/** One page of a list that is already in memory (small collections such as client grants). */
export const slicePage = <T>(all: T[], p: Paging): T[] => all.slice(p.page * p.perPage, p.page * p.perPage + p.perPage);

/** Response schema of a list: the bare array or the totals envelope (both are serialised by schema). */
export function listSchema(key: string, item: object) {
  return {
    anyOf: [
      { type: 'array', items: item },
      {
        type: 'object',
        properties: { start: { type: 'integer' }, limit: { type: 'integer' }, length: { type: 'integer' }, total: { type: 'integer' }, [key]: { type: 'array', items: item } },
      },
    ],
  };
}

export interface FieldsInput {
  fields?: string;
  include_fields?: boolean;
}

/**
 * `fields=a,b` keeps only those top-level fields, or drops them with `include_fields=false`.
 * It runs on the public view, so it can never reveal a field the response schema would strip.
 */
export function projection(q: FieldsInput): <T extends object>(item: T) => Partial<T> {
  const names = (q.fields ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  if (names.length === 0) return (item) => item;
  const wanted = new Set(names);
  const include = q.include_fields !== false;
  return (item) => Object.fromEntries(Object.entries(item).filter(([k]) => wanted.has(k) === include)) as Partial<typeof item>;
}

/** Splits comma lists and repeated parameters alike: `strategy=a,b&strategy=c` → [a, b, c]. */
export function commaList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const out = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return out.length ? out : undefined;
}
