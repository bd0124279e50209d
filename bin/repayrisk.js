#!/usr/bin/env node
// The installed `repayrisk` command: runs the TypeScript CLI through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
const { widenYoungGeneration } = await import('../src/cli/heap-tuning.ts');
widenYoungGeneration();
const { run } = await import('../src/cli/main.ts');
process.exitCode = await run(process.argv.slice(2));
