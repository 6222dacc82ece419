// A node:test reporter that runs beside the visible one (scripts/test.mjs) and writes, when the run
// ends, one JSON object {passed, failed, skipped} to its destination. It counts tests, not suites or
// files: a leaf that passed, failed or was skipped counts once; a suite or file that failed without
// any failing test under it (a hook that threw, a file that crashed on import) counts as one
// failure, so a broken file can never make the run look green. A skipped suite counts as one skip.
// Events of different files may interleave, so the bookkeeping is per file.

/** @param {AsyncIterable<{type: string, data: any}>} source */
export default async function* summaryReporter(source) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  /** file → per nesting level: what the children of the node open at that level did so far. */
  const open = new Map();
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    let levels = open.get(data.file);
    if (!levels) open.set(data.file, (levels = []));
    const n = data.nesting ?? 0;
    const kids = levels[n + 1] ?? { count: 0, fails: 0 };
    levels[n + 1] = undefined;
    const parent = (levels[n] ??= { count: 0, fails: 0 });
    parent.count++;
    if (data.skip !== undefined || data.todo !== undefined) {
      if (kids.count === 0) totals.skipped++;
    } else if (type === 'test:fail') {
      if (kids.fails === 0) totals.failed++;
      parent.fails += Math.max(1, kids.fails);
    } else if (kids.count === 0) {
      totals.passed++;
    }
  }
  yield `${JSON.stringify(totals)}\n`;
}
