import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLine } from '../../src/logs/pretty.ts';

describe('pretty log lines', () => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 1, hostname: 'h', msg: 'No SMTP provider', mail: { to: 'a@b' }, n: 3 });

  it('shows time, level, message and fields; drops pid and hostname', () => {
    assert.equal(formatLine(line, false), '03:04:05.006 WARN  No SMTP provider mail={"to":"a@b"} n=3');
  });

  it('colours by level only for a terminal', () => {
    assert.match(formatLine(line, true), /\x1b\[33mWARN \x1b\[0m/);
    assert.doesNotMatch(formatLine(line, false), /\x1b/);
  });

  it('prints an error stack on its own lines, and passes a non-JSON line through', () => {
    const err = JSON.stringify({ level: 50, time: 0, msg: 'boom', err: { type: 'Error', message: 'x', stack: 'Error: x\n    at f (a.ts:1:1)' } });
    assert.equal(formatLine(err, false), '00:00:00.000 ERROR boom\nError: x\n    at f (a.ts:1:1)');
    assert.equal(formatLine('plain text', false), 'plain text');
  });
});
