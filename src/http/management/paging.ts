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

/**
 * Response schema of a list: the bare array or the totals envelope (both are serialised by schema),
 * and with `checkpoint` also `{<key>: […], next}`. The envelope requires its counts so that a
 * checkpoint page never matches it (fast-json-stringify takes the first alternative that validates).
 */
export function listSchema(key: string, item: object, opts: { checkpoint?: boolean } = {}) {
  return {
    anyOf: [
      { type: 'array', items: item },
      {
        type: 'object',
        required: ['start', 'limit', 'length', 'total', key],
        properties: { start: { type: 'integer' }, limit: { type: 'integer' }, length: { type: 'integer' }, total: { type: 'integer' }, [key]: { type: 'array', items: item } },
      },
      ...(opts.checkpoint ? [{ type: 'object', required: [key], properties: { [key]: { type: 'array', items: item }, next: { type: 'string' } } }] : []),
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

/** Querystring schema properties for Auth0's checkpoint paging (`from` = the previous page's `next`). */
export const checkpointQuery = {
  from: { type: 'string', maxLength: 256 },
  take: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE },
} as const;

export interface CheckpointInput {
  from?: string;
  take?: number;
}

/** True when the caller asked for checkpoint paging (Auth0 switches on either parameter). */
export const isCheckpoint = (q: CheckpointInput): boolean => q.from !== undefined || q.take !== undefined;

/**
 * One checkpoint page of a small collection held in memory: the response is `{<key>: […], next}`,
 * `next` being the last id returned and absent on the last page (Auth0's checkpoint responses; the
 * SDKs stop when it is missing). Sorted here, in code point order, so that SQLite's and PostgreSQL's
 * collations cannot disagree about what comes next.
 */
export function checkpointPage<T>(all: T[], idOf: (item: T) => string, q: CheckpointInput): { items: T[]; next?: string } {
  const take = q.take ?? DEFAULT_PER_PAGE;
  const sorted = [...all].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const from = q.from;
  const rest = from ? sorted.filter((item) => idOf(item) > from) : sorted;
  const items = rest.slice(0, take);
  return rest.length > take ? { items, next: idOf(items.at(-1)!) } : { items };
}

/** Every item of a store list paged by page/per_page (for the small collections paged in memory). */
export async function allPages<T>(list: (p: { page: number; perPage: number }) => Promise<{ items: T[] }>): Promise<T[]> {
  const out: T[] = [];
  for (let page = 0; ; page++) {
    const { items } = await list({ page, perPage: MAX_PER_PAGE });
    out.push(...items);
    if (items.length < MAX_PER_PAGE) return out;
  }
}
