// Compiles src/ and test/ into a directory of the run's own for `npm test` (scripts/test.mjs), so
// that the test processes, the servers and CLIs they start, and the mail threads run plain
// JavaScript instead of going through tsx's loader hooks: importing the app costs 2.4 s of CPU
// through them and 1.1 s without, and a full run starts ~130 test files and ~120 CLI processes.
//
// tsc with noCheck (tsconfig.test.json) only strips types and rewrites the `.ts` import specifiers;
// `npm run typecheck` is what checks them. The copy mirrors the repository, so relative paths
// (`../../admin/dist`, `../package.json`, `./pages/lock.html`) must resolve inside it: the files
// tsc does not emit are linked back to the originals.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Paths under the root the copy links to as they are (what code reaches by relative paths). */
const LINKED = ['admin/dist', 'docs', 'node_modules', 'package.json'];

/** Compiles into `build`, a fresh directory of the run's own (a run must never see another's copy). */
export function buildTests(build) {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.test.json'), '--outDir', build], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling the tests failed:\n${r.stdout}${r.stderr}`);
  const link = (rel) => {
    const at = join(build, rel);
    if (existsSync(at) || !existsSync(join(ROOT, rel))) return;
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(relative(dirname(at), join(ROOT, rel)), at);
  };
  for (const rel of LINKED) link(rel);
  for (const dir of ['src', 'test']) for (const rel of assets(dir)) link(rel);
}

/** Files under dir (relative to the root) that tsc does not compile: pages, JSON, fixtures. */
function assets(dir) {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath ?? e.path, e.name)));
}

/** test/x.test.ts → <build>/test/x.test.js, and back. */
export const compiled = (source, build) => join(build, source.replace(/\.ts$/, '.js'));
export const sourceOf = (file, build) => relative(build, file).replace(/\.js$/, '.ts');
