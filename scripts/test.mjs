#!/usr/bin/env node
// `npm test`: unit, end-to-end, SDK-compatibility and browser suites with node's test runner. Each
// e2e file runs against SQLite and PostgreSQL (see test/helpers/backends.ts); the browser files drive
// Debian's Chromium (test/helpers/browser.ts). Files run two at a time, one per core of the CI machine.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dirs = ['test/unit', 'test/e2e', 'test/compat', 'test/browser'];
const files = dirs.flatMap((d) => {
  try {
    return readdirSync(d).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(d, f));
  } catch {
    return [];
  }
});
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000'];
if (process.env.CI === 'true') args.push('--test-reporter=spec');
const r = spawnSync(process.execPath, [...args, ...selected], { stdio: 'inherit' });
process.exit(r.status ?? 1);
