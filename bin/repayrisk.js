#!/usr/bin/env node
// The installed `repayrisk` command. It runs the CLI compiled into dist/cli/ (`npm run build`; `npm ci` builds
// it through `prepare`) when that build is of the sources as they are now, and otherwise the TypeScript through
// tsx (a runtime dependency), as a developer editing src/ gets: never older code. Either way, nothing is said on
// stdout (it carries data). REPAYRISK_FROM_SOURCE=1 runs the TypeScript even when the build is fresh.
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-stamp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let cli;
if (process.env.REPAYRISK_FROM_SOURCE !== '1' && distIsFresh(root)) {
  // Stack traces name src/ files and lines, as when running the TypeScript (maps load with the chunks that run).
  process.setSourceMapsEnabled(true);
  cli = {
    heap: () => import('../dist/cli/heap-tuning.js'),
    main: () => import('../dist/cli/main.js'),
  };
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = {
    heap: () => import('../src/cli/heap-tuning.ts'),
    main: () => import('../src/cli/main.ts'),
  };
}
const { widenYoungGeneration } = await cli.heap();
widenYoungGeneration();
const { run } = await cli.main();
process.exitCode = await run(process.argv.slice(2));
