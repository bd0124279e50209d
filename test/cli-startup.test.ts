import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers/tmp.ts';

// `repayrisk --help` used to load TensorFlow.js, vega, DuckDB and fastify before printing a line (~2-3 s). Each
// command now declares its options cheaply and imports its implementation only in its action. These tests prove
// the laziness by recording every module the process resolves (a module hook loaded with --import), not by timing:
// start-up times are measured by `npm run bench:cli`.

const dir = tmpDir('repayrisk-cli-startup-');

// The hook sits under tsx's own hooks (registered first), so it sees every URL tsx resolves: .ts sources and packages.
const hooks = join(dir, 'record-hooks.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.REPAYRISK_MODULE_LOG, r.url + '\\n');
  return r;
}
`,
);
const recorder = join(dir, 'record.mjs');
writeFileSync(
  recorder,
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
);

let runs = 0;

/** Runs `bin/repayrisk.js` as a user would, with every resolved module URL recorded. */
function traced(...args: string[]) {
  const log = join(dir, `modules-${runs++}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', recorder, 'bin/repayrisk.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, REPAYRISK_MODULE_LOG: log },
  });
  const modules = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  return { code: r.status, out: r.stdout, err: r.stderr, modules };
}

/** The dependencies a help text must not pay for (the heavy four, and the parsers zod and yaml), in module URLs. */
const HEAVY = /\/node_modules\/(@duckdb|@tensorflow|vega|vega-lite|fastify|@fastify|pg|pino|zod|yaml)\//;
const heavyIn = (modules: string[]) =>
  [...new Set(modules.map((m) => HEAVY.exec(m)?.[1]).filter((m) => m !== undefined))].sort();

const COMMANDS = [
  'generate',
  'validate',
  'summary',
  'train',
  'evaluate',
  'promote',
  'score',
  'decide',
  'serve',
  'keys',
  'backtest',
];

describe('repayrisk start-up loads only what the command needs', () => {
  it('--help lists every command without loading DuckDB, TensorFlow.js, vega or fastify', () => {
    const r = traced('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    // The recorder saw the CLI itself load: an empty list would prove nothing.
    expect(r.modules.some((m) => m.endsWith('/src/cli/main.ts'))).toBe(true);
    expect(r.modules.some((m) => m.includes('/node_modules/commander/'))).toBe(true);
    expect(heavyIn(r.modules)).toEqual([]);
  });

  it('decide --help lists every option and its default policy without loading them', () => {
    const r = traced('decide', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: repayrisk decide/);
    for (const o of ['--in <file>', '--policy <file>', '--now <iso-time>', '--call-slots <n>'])
      expect(r.out).toContain(o);
    expect(r.out).toContain(join('policies', 'default.yaml'));
    expect(heavyIn(r.modules)).toEqual([]);
    // Nor the policy parser or the decision core: they load when a decision is asked for.
    expect(r.modules.filter((m) => /\/src\/(core\/policy|pipeline)\//.test(m))).toEqual([]);
  });

  it('train and evaluate --help name every model kind without loading the kinds (TensorFlow.js)', () => {
    for (const cmd of ['train', 'evaluate']) {
      const r = traced(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toContain('logistic|scorecard|mlp|gbdt|auto');
      // The default missing-value markers are named too, without the table reader (DuckDB).
      expect(r.out, cmd).toContain('NA,N/A,n/a,#N/A,NaN,nan,null,NULL,None');
      expect(heavyIn(r.modules), cmd).toEqual([]);
      expect(r.modules.filter((m) => m.includes('/src/core/models/mlp.ts'))).toEqual([]);
    }
  });

  it('serve, validate and backtest --help load none of their heavy dependencies', () => {
    for (const [cmd, option] of [
      ['serve', '--drain-timeout <seconds>'],
      ['validate', '--table <name>'],
      ['backtest', '--bootstrap <n>'],
    ] as const) {
      const r = traced(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toContain(option);
      expect(heavyIn(r.modules), cmd).toEqual([]);
    }
  });

  it('a command that runs loads its dependencies then, and its errors keep their exit code', () => {
    const missing = join(dir, 'no-such.csv');
    const r = traced('validate', '--file', missing, '--table', 'accounts');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(
      `repayrisk: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
    // The recorder does see a heavy module when one loads: the checks above are not vacuous.
    expect(heavyIn(r.modules)).toContain('@duckdb');
    // A bad argument is refused by the declaration alone, before any implementation loads.
    const bad = traced('validate', '--file', missing, '--table', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toMatch(
      /^error: option '--table <name>' argument 'nope' is invalid\. --table must be one of accounts\|installments\|.*, got 'nope'$/,
    );
    expect(heavyIn(bad.modules)).toEqual([]);
  });
});
