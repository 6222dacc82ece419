import { Writable } from 'node:stream';

/**
 * Development log lines for a person at a terminal (issue 11): pino's JSON turned into
 * `12:03:04 WARN  message key=value …`, coloured by level, errors with their stack. Production and
 * pipes keep JSON (SESAME_LOG_FORMAT, src/config/schema.ts). Ten lines of our own rather than
 * pino-pretty and its dependencies (STYLE.md §15).
 */
const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
};
/** pino's bookkeeping, not worth a column. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

export function formatLine(line: string, colour: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line; // not pino's: as it came
  }
  const paint = (code: string, s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const [name, code] = LEVELS[Number(o.level)] ?? ['LOG  ', '0'];
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(o)) {
    if (HIDDEN.has(k)) continue;
    if (k === 'err' && typeof v === 'object' && v !== null && typeof (v as { stack?: unknown }).stack === 'string') {
      stack = `\n${paint('90', (v as { stack: string }).stack)}`;
      continue;
    }
    fields.push(`${paint('90', `${k}=`)}${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return `${paint('90', time)} ${paint(code, name)} ${String(o.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}`;
}

/** A stream for pino's `stream` option that writes formatted lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      const text = lines.filter((l) => l !== '').map((l) => formatLine(l, out.isTTY === true)).join('\n');
      if (text) out.write(`${text}\n`);
      done();
    },
  });
}
