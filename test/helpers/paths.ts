import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Tests run two ways: from their sources through tsx (`node --import tsx --test test/…`), or as
 * the compiled copy `npm test` makes for its run (scripts/build-tests.mjs), which spares every
 * test process tsx's loader hooks (importing the app costs 2.4 s of CPU through them, 1.1 s
 * without). Paths into the repository and the way to run Sesame's CLI depend on which.
 */
const COMPILED = import.meta.url.endsWith('.js');

/** The repository's root, whichever way the tests run (the copy links its package.json back). */
export const REPO = COMPILED ? dirname(realpathSync(resolve(import.meta.dirname, '../../package.json'))) : resolve(import.meta.dirname, '../..');

/** node arguments that run Sesame's CLI from this tree (src/main): compiled alongside, or via tsx. */
export const SESAME_CLI: readonly string[] = COMPILED
  ? [resolve(import.meta.dirname, '../../src/main.js')]
  : ['--import', import.meta.resolve('tsx'), join(REPO, 'src/main.ts')];
