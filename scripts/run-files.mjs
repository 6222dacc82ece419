// The test runner behind scripts/test.mjs, started by it on the compiled copy of the tests
// (scripts/build-tests.mjs) with `--enable-source-maps`, which each file's process inherits, so
// stack traces name the TypeScript sources. It is `node --test` through node:test's run(), for
// one reason: the CLI sorts the files by name, and this runner starts them longest first.
//
// Why the order matters: files run a few at a time, each in its own process, and the run ends when
// the last one does. By name, the e2e files that take a minute and a half (tenant-io,
// migration-report) started in the last quarter of the run and ended it alone on a machine that was
// otherwise idle. Longest first (LPT scheduling), the short files fill the gaps at the end instead.
// The expected durations come from test/durations.json (seconds, from a full run on the 2-core CI
// machine; `npm test -- --durations` refreshes it); a file it does not know counts as the median.
//
// argv: <summary file> <durations file to write, or ""> <file>...
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { sourceOf } from './build-tests.mjs';
import summaryReporter from './summary-reporter.mjs';

const [summaryFile, durationsOut, ...files] = process.argv.slice(2);
const DURATIONS = new URL('../test/durations.json', import.meta.url);
/** The compiled copy the files come from (set by scripts/test.mjs). */
const BUILD = process.env.SESAME_TEST_BUILD;

/**
 * Files at once: two per core. A file's process spends much of its time waiting (on its servers,
 * Chromium, PostgreSQL, timers). On the 2-core CI machine, full runs took 654 s with 3 at a time
 * by name, 613 s with 3 longest first, and 541 s with 4 longest first.
 */
const concurrency = Number(process.env.SESAME_TEST_CONCURRENCY) || availableParallelism() * 2;

let known = {};
try {
  known = JSON.parse(readFileSync(DURATIONS, 'utf8'));
} catch {
  // No record: every file counts as the same, and the order is by name.
}
const seconds = Object.values(known).sort((a, b) => a - b);
const median = seconds.length ? seconds[Math.floor(seconds.length / 2)] : 0;
const expected = (f) => known[sourceOf(f, BUILD)] ?? median;
const ordered = [...files].sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));

const events = run({ files: ordered, concurrency, timeout: 300_000 });

// One stream of events, two readers: the visible reporter and the counts CI reads.
const visible = new PassThrough({ objectMode: true });
const counted = new PassThrough({ objectMode: true });
const wall = new Map();
events.on('data', (event) => {
  visible.write(event);
  counted.write(event);
  if ((event.type === 'test:pass' || event.type === 'test:fail') && (event.data.nesting ?? 0) === 0) {
    const f = (wall.get(event.data.file) ?? 0) + (event.data.details?.duration_ms ?? 0);
    wall.set(event.data.file, f);
  }
  if (event.type === 'test:fail') process.exitCode = 1;
});
events.on('end', () => {
  visible.end();
  counted.end();
});

const ci = process.env.CI === 'true';
const human = ci || process.stdout.isTTY ? visible.compose(new spec()) : visible.compose(tap);
human.pipe(process.stdout);
const summary = Readable.from(summaryReporter(counted)).pipe(createWriteStream(summaryFile));

if (durationsOut) {
  summary.on('finish', () => {
    // Merged over the record, so a run of a few files updates only theirs.
    const measured = [...wall].map(([file, ms]) => [sourceOf(file, BUILD), Math.round(ms / 100) / 10]);
    const out = Object.fromEntries(Object.entries({ ...known, ...Object.fromEntries(measured) }).sort((a, b) => a[0].localeCompare(b[0])));
    writeFileSync(durationsOut, `${JSON.stringify(out, null, 1)}\n`);
  });
}
