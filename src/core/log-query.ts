import type { LogQuery } from '../store/types.ts';

/**
 * Parser for the `q` parameter of `GET /api/v2/logs`: Auth0's Lucene subset (spec §5, LOGQ).
 *
 * Supported:
 * - `field:value`; bare terms search BARE_TERM_FIELDS;
 * - `"quoted values"` match exactly (a `*` inside quotes is literal);
 * - `*` wildcards anywhere in an unquoted value (`description:*passwordless*`); `?` is a literal
 *   character, as Auth0 does not support it; `field:*` means the field exists;
 * - `AND` / `&&`, `OR` / `||`, `NOT` / `!` / `-` prefix, `+` prefix (no-op), parentheses, and
 *   field groups `type:(s OR f)`;
 * - ranges `field:[a TO b]`, `{a TO b}`, mixed brackets, `*` for an open end, and `field:>a`,
 *   `>=`, `<`, `<=`;
 * - `_exists_:field`.
 *
 * Juxtaposed terms are joined with AND. Lucene's own default operator is OR, but every Auth0
 * example spells AND out, and AND is what a reader of `type:depnote client_id:abc` expects.
 * Matching (done by the store) is case-sensitive and untokenised, as Auth0's is.
 *
 * `date` values are normalised to the stored ISO form: a date without a time stands for that
 * whole UTC day (`date:2026-01-01`, and an inclusive upper bound `[… TO 2026-01-31]` includes
 * the 31st), as Elasticsearch rounds date-only bounds; `now`, `now-7d` (s, m, h, d, w) are accepted.
 *
 * Unknown fields (including `details.*`, which are not searchable columns) parse fine and match
 * nothing, as on Auth0, rather than failing the whole query.
 */
export class LogQueryError extends Error {
  /** `too_long`: Auth0 answers an over-long query with 414; `invalid`: a syntax error (400). */
  readonly code: 'too_long' | 'invalid';
  constructor(code: 'too_long' | 'invalid', message: string) {
    super(message);
    this.name = 'LogQueryError';
    this.code = code;
  }
}

export const MAX_QUERY_LENGTH = 2000;
/** Bounds that keep the compiled SQL small (SQLite refuses expression trees deeper than 1,000). */
const MAX_DEPTH = 16;
const MAX_CLAUSES = 64;

/** Fields a bare term (no `field:`) searches (spec §5). */
export const BARE_TERM_FIELDS = ['client_name', 'connection', 'description', 'ip', 'log_id', 'type', 'user_name'];

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const NOW = /^now(?:([+-])(\d{1,6})([smhdw]))?$/;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

/** A value as written: its text, whether it was quoted, and where its unescaped `*`s are. */
interface Value {
  text: string;
  quoted: boolean;
  wildcard: boolean;
  literalStar: boolean;
}

export function parseLogQuery(q: string, now: number = Date.now()): LogQuery {
  if (q.length > MAX_QUERY_LENGTH) {
    throw new LogQueryError('too_long', `The query is too long: q is limited to ${MAX_QUERY_LENGTH} characters`);
  }
  return new Parser(q, now).parse();
}

class Parser {
  readonly #src: string;
  readonly #now: number;
  #pos = 0;
  #clauses = 0;

  constructor(src: string, now: number) {
    this.#src = src;
    this.#now = now;
  }

  parse(): LogQuery {
    this.#ws();
    if (this.#eof()) throw this.#error('the query is empty');
    const q = this.#or(null, 0);
    this.#ws();
    if (!this.#eof()) throw this.#error(`unexpected "${this.#src[this.#pos]}"`);
    return q;
  }

  // Precedence, lowest first: OR, AND (explicit or implied), NOT.
  #or(field: string | null, depth: number): LogQuery {
    const items = [this.#and(field, depth)];
    for (;;) {
      this.#ws();
      if (!this.#takeOperator('OR') && !this.#take('||')) break;
      items.push(this.#and(field, depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  #and(field: string | null, depth: number): LogQuery {
    const items = [this.#unary(field, depth)];
    for (;;) {
      this.#ws();
      if (this.#eof() || this.#peek(')') || this.#peekOperator('OR') || this.#peek('||')) break;
      this.#takeOperator('AND') || this.#take('&&');
      items.push(this.#unary(field, depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  #unary(field: string | null, depth: number): LogQuery {
    this.#ws();
    if (depth > MAX_DEPTH) throw this.#error(`the query nests deeper than ${MAX_DEPTH} levels`);
    if (this.#takeOperator('NOT') || this.#take('!') || this.#takePrefix('-')) {
      return { kind: 'not', item: this.#unary(field, depth + 1) };
    }
    this.#takePrefix('+');
    return this.#primary(field, depth);
  }

  #primary(field: string | null, depth: number): LogQuery {
    this.#ws();
    if (this.#eof()) throw this.#error('a term is missing at the end of the query');
    if (this.#take('(')) {
      const inner = this.#or(field, depth + 1);
      this.#ws();
      if (!this.#take(')')) throw this.#error('a ")" is missing');
      return inner;
    }
    for (const op of ['AND', 'OR', 'TO']) if (this.#peekOperator(op)) throw this.#error(`unexpected ${op}`);
    if (this.#peek(')') || this.#peek('&&') || this.#peek('||')) throw this.#error(`unexpected "${this.#src[this.#pos]}"`);

    const named = this.#fieldName();
    if (named !== undefined) return this.#fieldValue(named, depth);
    if (this.#peek('[') || this.#peek('{')) throw this.#error('a range needs a field, e.g. date:[2026-01-01 TO *]');
    return this.#term(field, this.#value(false));
  }

  /** `name:` ahead? Consumes it and returns the name; otherwise consumes nothing. */
  #fieldName(): string | undefined {
    const m = /^((?:[^\s:()"\\[\]{}]|\\.)+):/.exec(this.#src.slice(this.#pos));
    if (!m) return undefined;
    const name = m[1]!;
    if (!FIELD_NAME.test(name)) return undefined; // e.g. a value with an escaped colon
    this.#pos += m[0].length;
    return name;
  }

  #fieldValue(field: string, depth: number): LogQuery {
    this.#ws();
    if (this.#take('(')) {
      const inner = this.#or(field, depth + 1);
      this.#ws();
      if (!this.#take(')')) throw this.#error('a ")" is missing');
      return inner;
    }
    if (field === '_exists_') {
      const v = this.#value(true);
      if (!FIELD_NAME.test(v.text)) throw this.#error(`_exists_ needs a field name, got "${v.text}"`);
      return this.#count({ kind: 'exists', field: v.text });
    }
    if (this.#peek('[') || this.#peek('{')) return this.#range(field);
    const cmp = /^(>=|<=|>|<)/.exec(this.#src.slice(this.#pos));
    if (cmp) {
      this.#pos += cmp[0].length;
      const v = this.#value(true);
      const bound = this.#bound(field, v, cmp[0].startsWith('>') ? 'from' : 'to', cmp[0].length === 2);
      if (bound === null) throw this.#error(`"${cmp[0]}" needs a value`);
      const inclusive = cmp[0].length === 2;
      return this.#count(
        cmp[0].startsWith('>')
          ? { kind: 'range', field, from: bound, to: null, fromInclusive: inclusive, toInclusive: false }
          : { kind: 'range', field, from: null, to: bound, fromInclusive: false, toInclusive: inclusive },
      );
    }
    return this.#term(field, this.#value(true));
  }

  #term(field: string | null, v: Value): LogQuery {
    if (!v.quoted && v.text === '*') {
      // `field:*` = the field has a value; a bare `*` matches every log (log_id is never empty).
      return this.#count({ kind: 'exists', field: field ?? 'log_id' });
    }
    if (v.wildcard && v.literalStar) throw this.#error('an escaped \\* cannot be combined with * wildcards in one value');
    if (field === 'date' && !v.wildcard) {
      // A day stands for all of it; a timestamp is compared in the stored form.
      const day = DAY.test(v.text) ? v.text : undefined;
      if (day !== undefined) {
        return this.#count({ kind: 'range', field, from: this.#date(day, 'start'), to: this.#date(day, 'end'), fromInclusive: true, toInclusive: true });
      }
      return this.#count({ kind: 'term', fields: [field], value: this.#date(v.text, 'start'), wildcard: false });
    }
    return this.#count({ kind: 'term', fields: field === null ? [...BARE_TERM_FIELDS] : [field], value: v.text, wildcard: v.wildcard });
  }

  #range(field: string): LogQuery {
    const fromInclusive = this.#src[this.#pos++] === '[';
    this.#ws();
    const lower = this.#value(true, true);
    this.#ws();
    if (!this.#takeOperator('TO')) throw this.#error('a range needs TO, e.g. [2026-01-01 TO 2026-12-31]');
    this.#ws();
    const upper = this.#value(true, true);
    this.#ws();
    const close = this.#src[this.#pos];
    if (close !== ']' && close !== '}') throw this.#error('a range must end with ] or }');
    this.#pos++;
    const toInclusive = close === ']';
    return this.#count({
      kind: 'range',
      field,
      from: this.#bound(field, lower, 'from', fromInclusive),
      to: this.#bound(field, upper, 'to', toInclusive),
      fromInclusive,
      toInclusive,
    });
  }

  /** One end of a range: null when open (`*`); `date` bounds are normalised (see the class comment). */
  #bound(field: string, v: Value, end: 'from' | 'to', inclusive: boolean): string | null {
    if (!v.quoted && v.text === '*') return null;
    if (v.wildcard) throw this.#error('a range bound cannot contain a wildcard');
    if (field !== 'date') return v.text;
    if (!DAY.test(v.text)) return this.#date(v.text, 'start');
    // Exclusive lower / inclusive upper day bounds mean "after" / "through" the whole day.
    const endOfDay = (end === 'from') !== inclusive;
    return this.#date(v.text, endOfDay ? 'end' : 'start');
  }

  #date(text: string, at: 'start' | 'end'): string {
    const day = DAY.exec(text);
    if (day) {
      const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
      if (new Date(ms).toISOString().slice(0, 10) !== text) throw this.#error(`"${text}" is not a valid date`);
      return new Date(at === 'end' ? ms + 864e5 - 1 : ms).toISOString();
    }
    const rel = NOW.exec(text);
    if (rel) {
      const offset = rel[1] ? (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[rel[3]!]! : 0;
      return new Date(this.#now + offset).toISOString();
    }
    // Full timestamps only: Date.parse also accepts loose forms like "1" that are surely mistakes.
    const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) throw this.#error(`"${text}" is not a valid date (use 2026-01-31, 2026-01-31T12:00:00Z or now-1d)`);
    return new Date(ms).toISOString();
  }

  /**
   * A value: quoted, or unquoted up to whitespace or a parenthesis. After `field:` a value may
   * contain `:` (timestamps); inside a range it also ends at `]` / `}`.
   */
  #value(afterField: boolean, inRange = false): Value {
    if (this.#take('"')) {
      let text = '';
      for (;;) {
        if (this.#eof()) throw this.#error('a closing quote is missing');
        const c = this.#src[this.#pos++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (this.#eof()) throw this.#error('the query ends with a lone backslash');
          text += this.#src[this.#pos++];
        } else text += c;
      }
      return { text, quoted: true, wildcard: false, literalStar: false };
    }
    let text = '';
    let wildcard = false;
    let literalStar = false;
    while (!this.#eof()) {
      const c = this.#src[this.#pos]!;
      if (/\s/.test(c) || c === '(' || c === ')' || (inRange && (c === ']' || c === '}'))) break;
      if (c === '"' || c === '[' || c === ']' || c === '{' || c === '}' || (c === ':' && !afterField)) {
        throw this.#error(`unexpected "${c}" (quote the value or escape it with \\)`);
      }
      this.#pos++;
      if (c === '\\') {
        if (this.#eof()) throw this.#error('the query ends with a lone backslash');
        const escaped = this.#src[this.#pos++]!;
        if (escaped === '*') literalStar = true;
        text += escaped;
        continue;
      }
      if (c === '*') wildcard = true;
      text += c;
    }
    if (text === '') throw this.#error('a value is missing');
    return { text, quoted: false, wildcard, literalStar };
  }

  #count(q: LogQuery): LogQuery {
    if (++this.#clauses > MAX_CLAUSES) throw this.#error(`the query has more than ${MAX_CLAUSES} clauses`);
    return q;
  }

  #eof = () => this.#pos >= this.#src.length;
  #ws() {
    while (!this.#eof() && /\s/.test(this.#src[this.#pos]!)) this.#pos++;
  }
  #peek = (s: string) => this.#src.startsWith(s, this.#pos);
  #take(s: string): boolean {
    if (!this.#peek(s)) return false;
    this.#pos += s.length;
    return true;
  }
  /** `-x` / `+x` are prefixes only when glued to what follows. */
  #takePrefix(c: string): boolean {
    if (!this.#peek(c) || this.#pos + 1 >= this.#src.length || /\s/.test(this.#src[this.#pos + 1]!)) return false;
    this.#pos++;
    return true;
  }
  /** Upper-case words only, as Lucene: `and` is an ordinary term. */
  #peekOperator(word: string): boolean {
    if (!this.#peek(word)) return false;
    const next = this.#src[this.#pos + word.length];
    return next === undefined || /\s/.test(next) || next === '(';
  }
  #takeOperator(word: string): boolean {
    if (!this.#peekOperator(word)) return false;
    this.#pos += word.length;
    return true;
  }
  #error(message: string) {
    return new LogQueryError('invalid', `Invalid query at character ${this.#pos + 1}: ${message}`);
  }
}
