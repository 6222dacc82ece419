import { extname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ApiFailure } from '../migration/api.ts';
import { type Obj, SECTIONS, type TenantDoc } from './document.ts';

export type Format = 'json' | 'yaml';

/** `--format` wins; otherwise `.json` means JSON and anything else (or stdout) YAML, as issue 4 §3 says. */
export function formatFor(file: string | undefined, flag: string | undefined): Format {
  if (flag !== undefined) {
    if (flag !== 'json' && flag !== 'yaml') throw new ApiFailure(`--format must be json or yaml (got "${flag}")`);
    return flag;
  }
  return file !== undefined && extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

export function serialize(doc: TenantDoc, format: Format): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringifyYaml(doc);
}

/** Parses and checks the document's shape, so a mistake is named before anything is changed. */
export function parseDocument(text: string, file: string): TenantDoc {
  let doc: unknown;
  try {
    doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ApiFailure(`${file} is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw new ApiFailure(`${file}: the document must be an object with ${SECTIONS.join(', ')}`);
  const unknown = Object.keys(doc).filter((k) => !(SECTIONS as readonly string[]).includes(k));
  if (unknown.length) throw new ApiFailure(`${file}: unknown section(s) ${unknown.join(', ')}; expected ${SECTIONS.join(', ')}`);
  for (const k of ['tenant', 'emailProvider'] as const) {
    if (doc[k] !== undefined && !isObj(doc[k])) throw new ApiFailure(`${file}: ${k} must be an object`);
  }
  const lists: Array<[string, string[]]> = [['clients', ['name']], ['connections', ['name', 'strategy']], ['databases', ['name', 'strategy']], ['resourceServers', ['identifier']], ['clientGrants', ['client_id', 'audience']]];
  for (const [k, required] of lists) {
    const list = doc[k];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new ApiFailure(`${file}: ${k} must be a list`);
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (!isObj(item)) throw new ApiFailure(`${file}: ${k}[${i}] must be an object`);
      for (const r of required) if (typeof item[r] !== 'string' || item[r] === '') throw new ApiFailure(`${file}: ${k}[${i}].${r} must be a non-empty string`);
      const key = required.filter((r) => r !== 'strategy').map((r) => item[r]).join(' ');
      if (seen.has(key)) throw new ApiFailure(`${file}: ${k} lists "${key}" twice`);
      seen.add(key);
    });
  }
  return doc as TenantDoc;
}

/**
 * `--set a.b.c=value`: sets a string at a dotted path, making the objects on the way. In a list the
 * next part names an item (`connections.sms.options.twilio_token`, `clients.Storefront.client_secret`):
 * by `name`, or `identifier` for resource servers.
 */
export function applySet(doc: TenantDoc, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ApiFailure(`--set needs path=value (got "${assignment.split('=')[0]}")`);
  const path = assignment.slice(0, eq).split('.');
  if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) throw new ApiFailure(`--set: invalid path ${assignment.slice(0, eq)}`);
  if (!(SECTIONS as readonly string[]).includes(path[0]!) || path.length < 2) throw new ApiFailure(`--set: the path must start with one of ${SECTIONS.join(', ')}`);
  let at = doc as Obj;
  const parts = path.slice(0, -1);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (Array.isArray(at[p])) {
      const key = parts[i + 1];
      const item = key === undefined ? undefined : (at[p] as unknown[]).find((o) => isObj(o) && (o.name === key || o.identifier === key));
      if (!isObj(item)) throw new ApiFailure(`--set: ${path.slice(0, i + 1).join('.')} lists no item named "${key ?? ''}"`);
      at = item;
      i++;
      continue;
    }
    if (at[p] === undefined) at[p] = {};
    if (!isObj(at[p])) throw new ApiFailure(`--set: ${assignment.slice(0, eq)} goes through something that is not an object`);
    at = at[p] as Obj;
  }
  at[path.at(-1)!] = assignment.slice(eq + 1);
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
