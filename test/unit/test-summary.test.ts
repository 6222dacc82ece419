import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

/**
 * `npm test` ends with the line CI reads, `tests: N passed, N failed, N skipped (time)`, whichever
 * reporter shows the run, and exits non-zero on a failure. Runs scripts/test.mjs on fixtures whose
 * outcomes are known: 3 pass; 1 fails, 2 fail under a throwing before hook, 1 suite fails in its
 * after hook, 1 file crashes on import; a skip, a todo and a skipped suite.
 */
function run(env: Record<string, string>) {
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of to its stdout.
  const { NODE_TEST_CONTEXT: _, CI: __, ...parent } = process.env;
  return spawnSync(process.execPath, ['scripts/test.mjs', 'fixtures/runner/'], {
    env: { ...parent, SESAME_TEST_DIRS: 'test/fixtures/runner', ...env },
    encoding: 'utf8',
  });
}

for (const [how, env] of [['piped (TAP)', {}], ['in CI (spec)', { CI: 'true' }]] as const) {
  it(`ends with the summary line, ${how}`, () => {
    const r = run(env);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines.at(-1)!, /^tests: 3 passed, 5 failed, 3 skipped \(\d+s\)$/, r.stdout.slice(-2000));
    assert.equal(r.status, 1);
    // CI greps for the counts alone on a line.
    assert.equal(lines.filter((l) => /\b\d+ passed, \d+ failed\b/.test(l)).length, 1);
  });
}

it('says so, and fails, when nothing matches', () => {
  const r = run({ SESAME_TEST_DIRS: 'test/fixtures/none' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no test files matched/);
});
