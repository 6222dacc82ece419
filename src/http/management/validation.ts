import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { ApiError } from '../../errors/api-error.ts';
import { nulPath } from '../nul.ts';
import { memoizeBySchema } from '../schema-compilers.ts';

/**
 * Request validation for `/api/v2` (STYLE.md §6). Fastify's default Ajv coerces body types
 * (`"true"` → true, `"x"` → ["x"], null → "") and *removes* unknown properties instead of
 * rejecting them; Auth0 rejects both, so bodies get a strict instance. Query strings are text by
 * nature, so they keep coercion (`page=2` → 2, `strategy=a` → ["a"]).
 */
const strict = { allErrors: false, removeAdditional: false, allowUnionTypes: true, verbose: true, strict: true } as const;
const bodyAjv = new Ajv({ ...strict, coerceTypes: false, useDefaults: false });
const queryAjv = new Ajv({ ...strict, coerceTypes: 'array', useDefaults: true });

// Compiled once per process and schema text, whatever number of apps it builds (schema-compilers.ts).
const compileOnce = memoizeBySchema(({ schema, httpPart }: { schema: unknown; httpPart?: string | undefined }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object), (r) => (r.httpPart === 'body' ? 'body' : 'query'));

export const compileValidator: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = compileOnce({ schema, httpPart });
  return (data: unknown) => {
    const at = nulPath(data);
    if (at !== undefined) return { error: [{ keyword: 'nul', instancePath: at, schemaPath: '', params: {}, message: 'Strings must not contain NUL characters' }] };
    return validate(data) ? true : { error: validate.errors ?? [] };
  };
};

const PREFIX: Record<string, string> = { body: 'Payload', querystring: 'Query', params: 'Path', headers: 'Headers' };

/**
 * Auth0's validation messages (z-schema wording, as node-auth0 users see them):
 * `Payload validation error: 'Expected type string but found type integer' on property name.`
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0] as ErrorObject | undefined;
  const where = e?.instancePath ? ` on property ${propertyPath(e.instancePath)}` : '';
  const message = `${PREFIX[dataVar] ?? 'Request'} validation error: '${e ? describe(e) : 'invalid'}'${where}.`;
  return new ApiError(400, message, dataVar === 'body' ? 'invalid_body' : dataVar === 'params' ? 'invalid_uri' : 'invalid_query_string');
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `Expected type ${String(p.type).replace(',', ' or ')} but found type ${jsonType(e.data)}`;
    case 'required':
      return `Missing required property: ${String(p.missingProperty)}`;
    case 'additionalProperties':
      return `Additional properties not allowed: ${clip(String(p.additionalProperty))}`;
    case 'enum':
      return `No enum match for: ${clip(JSON.stringify(e.data) ?? 'undefined')}`;
    case 'maxLength':
      return `String is too long (${String(e.data).length} chars), maximum ${String(p.limit)}`;
    case 'minLength':
      return `String is too short (${String(e.data).length} chars), minimum ${String(p.limit)}`;
    case 'maxItems':
      return `Array is too long (${(e.data as unknown[]).length}), maximum ${String(p.limit)}`;
    case 'minItems':
      return `Array is too short (${(e.data as unknown[]).length}), minimum ${String(p.limit)}`;
    case 'maxProperties':
      return `Too many properties defined (${Object.keys(e.data as object).length}), maximum ${String(p.limit)}`;
    case 'minProperties':
      return `Too few properties defined (${Object.keys(e.data as object).length}), minimum ${String(p.limit)}`;
    case 'minimum':
      return `Value ${String(e.data)} is less than minimum ${String(p.limit)}`;
    case 'maximum':
      return `Value ${String(e.data)} is greater than maximum ${String(p.limit)}`;
    case 'pattern':
      return `String does not match pattern ${String(p.pattern)}: ${clip(String(e.data))}`;
    case 'propertyNames':
      return `Invalid property name: ${clip(String(p.propertyName))}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** `/flags/x` → `flags.x`, `/callbacks/0` → `callbacks[0]`. */
const propertyPath = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');

/** Error messages echo input: keep them short. */
const clip = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s);
