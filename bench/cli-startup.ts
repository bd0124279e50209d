// Bench: how long `repayrisk` takes to start, for commands that only print their help.
//   npm run bench:cli [-- --runs 7]
// Each case is a fresh process (spawned one after another, cases interleaved so machine noise spreads evenly):
//   node -e 0                 the bare runtime, the floor of any Node CLI
//   node + tsx                bin/repayrisk.js's own cost before any repayrisk code: tsx's module hooks
//   before: <args>            bin/repayrisk.js as it was: every command's implementation (tfjs, vega, DuckDB,
//                             fastify, ...) loaded at start through tsx, reproduced by importing src/cli/actions/*
//   tsx: <args>               bin/repayrisk.js running the TypeScript (REPAYRISK_FROM_SOURCE=1, as when dist/cli/
//                             is stale or absent): each command's implementation loaded only when it runs
//   compiled: <args>          bin/repayrisk.js running dist/cli/ (`npm run build`), lazy the same way, no tsx
// Prints the median wall time and CPU time (user + system, from /proc/self/stat of reaped children, 10 ms ticks)
// per case, the ratios between them and over `node -e 0`, and the cost of the freshness check (the stat walk of
// src/ bin/repayrisk.js makes before choosing dist/cli/). Linux for the CPU column; wall time anywhere.
// Refuses to run, or to report, when dist/cli/ is not a build of the sources as they are (the compiled cases
// would quietly time the TypeScript): run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { distIsFresh, sourceFingerprint } from '../bin/dist-stamp.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a positive integer, got '${values.runs}'`);

const root = fileURLToPath(new URL('..', import.meta.url));
const url = (p: string) => pathToFileURL(join(root, p)).href;
const assertFresh = (when: string) => {
  if (!distIsFresh(root))
    throw new Error(
      `dist/cli/ is not a build of the sources as they are ${when}: run npm run build (and rerun)`,
    );
};
assertFresh('now');
const tsxApi = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/api/index.mjs')).href;

// The old start-up, step for step as bin/repayrisk.js does it, plus every action module imported up front.
const actions = readdirSync(join(root, 'src/cli/actions')).filter((f) => f.endsWith('.ts'));
const eager = [
  `import { register } from ${JSON.stringify(tsxApi)};`,
  'register();',
  `const { widenYoungGeneration } = await import(${JSON.stringify(url('src/cli/heap-tuning.ts'))});`,
  'widenYoungGeneration();',
  ...actions.map((f) => `await import(${JSON.stringify(url(`src/cli/actions/${f}`))});`),
  `const { run } = await import(${JSON.stringify(url('src/cli/main.ts'))});`,
  'process.exitCode = await run(process.argv.slice(1));',
].join('\n');
const tsxOnly = `import { register } from ${JSON.stringify(tsxApi)};\nregister();`;

interface Case {
  name: string;
  argv: string[];
  /** Whether the case prints repayrisk's help (checked, so a case never times something else). */
  help?: boolean;
  /** Set to run bin/repayrisk.js on the TypeScript. */
  fromSource?: boolean;
}
/** A case's name: how it runs, and the arguments. */
const label = (how: string, a: string[]) => `${how.padEnd(9)} repayrisk ${a.join(' ')}`;
const HELP: string[][] = [['--help'], ['decide', '--help'], ['validate', '--help']];
const cases: Case[] = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'node + tsx (no repayrisk code)', argv: ['--input-type=module', '-e', tsxOnly] },
  ...HELP.flatMap((a) => [
    {
      name: label('before:', a),
      argv: ['--input-type=module', '-e', eager, '--', ...a],
      help: true,
    },
    {
      name: label('tsx:', a),
      argv: [join(root, 'bin/repayrisk.js'), ...a],
      help: true,
      fromSource: true,
    },
    { name: label('compiled:', a), argv: [join(root, 'bin/repayrisk.js'), ...a], help: true },
  ]),
];

/** CPU seconds of this process's reaped children (user + system), or NaN off Linux. */
function childCpu(): number {
  try {
    // Fields after the command name: cutime and cstime are the 14th and 15th (clock ticks, 100 per second).
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return Number.NaN;
  }
}

const wall = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < runs; r++) {
  for (const c of cases) {
    const cpu0 = childCpu();
    const t0 = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.REPAYRISK_FROM_SOURCE;
    if (c.fromSource) env.REPAYRISK_FROM_SOURCE = '1';
    const p = spawnSync(process.execPath, c.argv, { cwd: root, encoding: 'utf8', env });
    const t = (performance.now() - t0) / 1000;
    if (p.status !== 0) throw new Error(`${c.name} exited ${p.status}: ${p.stderr}`);
    if (c.help && !p.stdout.startsWith('Usage: repayrisk')) throw new Error(`${c.name} printed: ${p.stdout}`);
    wall.get(c.name)!.push(t);
    cpu.get(c.name)!.push(childCpu() - cpu0);
  }
}

assertFresh('after the runs (a source changed meanwhile)');

const walks: number[] = [];
for (let r = 0; r < 20; r++) {
  const t0 = performance.now();
  sourceFingerprint(root);
  walks.push(performance.now() - t0);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const base = median(wall.get('node -e 0')!);
const sec = (x: number) => (Number.isNaN(x) ? '   n/a' : `${x.toFixed(2)} s`);
process.stdout.write(
  `repayrisk start-up, median of ${runs} runs per case (Node ${process.version}, ${process.platform})\n`,
);
process.stdout.write(`${'case'.padEnd(40)} ${'wall'.padStart(8)} ${'CPU'.padStart(8)}  wall / node -e 0\n`);
for (const c of cases) {
  const w = median(wall.get(c.name)!);
  const u = median(cpu.get(c.name)!);
  process.stdout.write(
    `${c.name.padEnd(40)} ${sec(w).padStart(8)} ${sec(u).padStart(8)}  ${(w / base).toFixed(1)}x\n`,
  );
}
const ratio = (m: Map<string, number[]>, a: string, b: string) =>
  (median(m.get(a)!) / median(m.get(b)!)).toFixed(1);
process.stdout.write('\nratios (wall, CPU):\n');
for (const a of HELP) {
  const k = a.join(' ');
  const [b, t, c] = [label('before:', a), label('tsx:', a), label('compiled:', a)];
  process.stdout.write(
    `  repayrisk ${k.padEnd(18)} compiled vs tsx: ${ratio(wall, t, c)}x faster, ${ratio(cpu, t, c)}x less CPU;` +
      ` vs before: ${ratio(wall, b, c)}x, ${ratio(cpu, b, c)}x\n`,
  );
}
process.stdout.write(
  `\nfreshness check (stat walk of src/ and the build inputs, in process): median ${median(walks).toFixed(1)} ms of 20\n`,
);
