#!/usr/bin/env node
// `npm test`: unit, end-to-end, SDK-compatibility and browser suites with node's test runner. Each
// e2e file runs against SQLite and PostgreSQL (see test/helpers/backends.ts); the browser files drive
// Debian's Chromium (test/helpers/browser.ts). Files run a few at a time (two per core), longest first
// (scripts/run-files.mjs). `npm test -- <part of a path> …` runs the matching files; `npm test --
// --durations` also records each file's duration in test/durations.json, the order's source.
//
// Whatever reporter shows the run (spec on a terminal or in CI, TAP when piped), the last line is
// the one CI reads: `tests: N passed, N failed, N skipped (4m41s)`, counted by
// scripts/summary-reporter.mjs from the runner's events, not parsed from its text.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTests, compiled } from './build-tests.mjs';

const dirs = (process.env.SESAME_TEST_DIRS ?? 'test/unit,test/e2e,test/compat,test/browser').split(',');
const files = dirs.flatMap((d) => {
  try {
    return readdirSync(d).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(d, f));
  } catch {
    return [];
  }
});
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'sesame-test-'));

// The files run compiled (scripts/build-tests.mjs): a few seconds of tsc spare every test process
// tsx's loader hooks. `node --import tsx --test <file>` still runs one file from its sources. A run
// started by a test (test-summary runs this script on fixtures) reuses its parent's copy, which
// holds the fixtures too, instead of compiling everything again.
const build = process.env.SESAME_TEST_BUILD || join(tmp, 'build');
if (!process.env.SESAME_TEST_BUILD) {
  try {
    buildTests(build);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(err.message);
    console.log('tests: 0 passed, 1 failed, 0 skipped (0s) — the tests did not compile');
    process.exit(1);
  }
}
const summaryFile = join(tmp, 'summary.json');
const durations = flags.includes('--durations') ? fileURLToPath(new URL('../test/durations.json', import.meta.url)) : '';
const runner = fileURLToPath(new URL('./run-files.mjs', import.meta.url));
const started = Date.now();
const r = spawnSync(process.execPath, ['--enable-source-maps', runner, summaryFile, durations, ...selected.map((f) => compiled(f, build))], {
  stdio: 'inherit',
  env: { ...process.env, SESAME_TEST_BUILD: build },
});
const elapsed = formatDuration(Date.now() - started);

let totals;
try {
  totals = JSON.parse(readFileSync(summaryFile, 'utf8'));
} catch {
  // The runner died before reporting (killed, out of memory): say so on the line CI reads.
  totals = undefined;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (totals) {
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped (${elapsed})`);
} else {
  console.log(`tests: 0 passed, 1 failed, 0 skipped (${elapsed}) — the test runner ended without a summary (${r.signal ?? `exit ${r.status}`})`);
}
const ok = r.status === 0 && totals !== undefined && totals.failed === 0;
process.exit(ok ? 0 : (r.status || 1));

function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
