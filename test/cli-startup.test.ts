import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers/tmp.ts';

// `repayrisk --help` used to load TensorFlow.js, vega, DuckDB and fastify before printing a line (~2-3 s). Each
// command now declares its options cheaply and imports its implementation only in its action. These tests prove
// the laziness by recording every module the process resolves (a module hook loaded with --import), not by timing:
// start-up times are measured by `npm run bench:cli`.
//
// `repayrisk` runs the CLI compiled into dist/cli/ when that build matches the sources, else the TypeScript through
// tsx. Both ways are tested here, on a copy of the package built by its own build script, so neither the state of
// this checkout's dist/ nor edits made to its src/ meanwhile decide what runs.

const REPO = fileURLToPath(new URL('..', import.meta.url));
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

/** A copy of the package (sources, bin, build script; dependencies and data linked), built. */
const pkg = join(dir, 'pkg');
for (const p of ['src', 'bin', 'tsconfig.json', 'package.json', join('scripts', 'build-cli.ts')])
  cpSync(join(REPO, p), join(pkg, p), { recursive: true });
for (const p of ['node_modules', 'policies', 'models']) symlinkSync(join(REPO, p), join(pkg, p));

/** Runs the copy's build script (`npm run build`), as `npm ci` does through `prepare`. */
function build(): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(pkg, 'scripts', 'build-cli.ts')], {
    cwd: pkg,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
}
build();

let runs = 0;

type Mode = 'compiled' | 'source';

/**
 * Runs the copy's `bin/repayrisk.js` as a user would, with every resolved module URL recorded. `source` forces
 * the TypeScript (REPAYRISK_FROM_SOURCE=1); `compiled` leaves the choice to the bin. A chunk of dist/cli/ is
 * listed with the sources its source map names, so the same checks read both ways.
 */
function traced(mode: Mode, ...args: string[]) {
  const log = join(dir, `modules-${runs++}.txt`);
  writeFileSync(log, '');
  const env: NodeJS.ProcessEnv = { ...process.env, REPAYRISK_MODULE_LOG: log };
  delete env.REPAYRISK_FROM_SOURCE;
  if (mode === 'source') env.REPAYRISK_FROM_SOURCE = '1';
  const r = spawnSync(process.execPath, ['--import', recorder, join(pkg, 'bin', 'repayrisk.js'), ...args], {
    encoding: 'utf8',
    env,
  });
  const loaded = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  const modules = loaded.flatMap((url) => {
    if (!/\/dist\/cli\/[^/]+\.js$/.test(url)) return [url];
    const map = JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')) as { sources: string[] };
    return [url, ...map.sources.map((s) => new URL(s, `${url}.map`).href)];
  });
  return { code: r.status, out: r.stdout, err: r.stderr, modules, ran: ranFrom(loaded) };
}

/** Which CLI a run loaded: the compiled one, the TypeScript, or (a failure) neither or both. */
function ranFrom(loaded: string[]): string {
  const compiled = loaded.some((u) => u.endsWith('/dist/cli/main.js'));
  const source = loaded.some((u) => u.endsWith('/src/cli/main.ts'));
  return compiled === source ? `compiled: ${compiled}, source: ${source}` : compiled ? 'compiled' : 'source';
}

/** The dependencies a help text must not pay for (the heavy four, and the parsers zod and yaml), in module URLs. */
const HEAVY = /\/node_modules\/(@duckdb|@tensorflow|vega|vega-lite|fastify|@fastify|pg|pino|zod|yaml)\//;
const heavyIn = (modules: string[]) =>
  [...new Set(modules.map((m) => HEAVY.exec(m)?.[1]).filter((m) => m !== undefined))].sort();

const COMMANDS = [
  'generate',
  'validate',
  'ingest',
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

describe.each(['compiled', 'source'] as const)(
  'repayrisk start-up (%s) loads only what the command needs',
  (mode) => {
    it('--help lists every command without loading DuckDB, TensorFlow.js, vega or fastify', () => {
      const r = traced(mode, '--help');
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
      // The recorder saw the CLI itself load: an empty list would prove nothing.
      expect(r.modules.some((m) => m.endsWith('/src/cli/main.ts'))).toBe(true);
      // And it ran the way asked: compiled, without tsx's hooks at all; or the TypeScript through tsx.
      expect(r.ran).toBe(mode);
      expect(r.modules.some((m) => m.includes('/node_modules/tsx/'))).toBe(mode === 'source');
      expect(r.modules.some((m) => m.includes('/node_modules/commander/'))).toBe(true);
      expect(heavyIn(r.modules)).toEqual([]);
    });

    it('decide --help lists every option and its default policy without loading them', () => {
      const r = traced(mode, 'decide', '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: repayrisk decide/);
      for (const o of ['--in <file>', '--policy <file>', '--now <iso-time>', '--call-slots <n>'])
        expect(r.out).toContain(o);
      // The package's own policy: from dist/cli/ as from src/, files are found relative to the source file.
      expect(r.out.replace(/\s+/g, ' ')).toContain(`(default: "${join(pkg, 'policies', 'default.yaml')}")`);
      expect(heavyIn(r.modules)).toEqual([]);
      // Nor the policy parser or the decision core: they load when a decision is asked for.
      expect(r.modules.filter((m) => /\/src\/(core\/policy|pipeline)\//.test(m))).toEqual([]);
    });

    it('train and evaluate --help name every model kind without loading the kinds (TensorFlow.js)', () => {
      for (const cmd of ['train', 'evaluate']) {
        const r = traced(mode, cmd, '--help');
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
        const r = traced(mode, cmd, '--help');
        expect(r.code, cmd).toBe(0);
        expect(r.out, cmd).toContain(option);
        expect(heavyIn(r.modules), cmd).toEqual([]);
      }
    });

    it('a command that runs loads its dependencies then, and its errors keep their exit code', () => {
      const missing = join(dir, 'no-such.csv');
      const r = traced(mode, 'validate', '--file', missing, '--table', 'accounts');
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(
        `repayrisk: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
      );
      // The recorder does see a heavy module when one loads: the checks above are not vacuous.
      expect(heavyIn(r.modules)).toContain('@duckdb');
      // A bad argument is refused by the declaration alone, before any implementation loads.
      const bad = traced(mode, 'validate', '--file', missing, '--table', 'nope');
      expect(bad.code).toBe(2);
      expect(bad.err.split('\n')[0]).toMatch(
        /^error: option '--table <name>' argument 'nope' is invalid\. --table must be one of accounts\|installments\|.*, got 'nope'$/,
      );
      expect(heavyIn(bad.modules)).toEqual([]);
    });
  },
);

describe('repayrisk runs dist/cli/ only while it is a build of the sources as they are now', () => {
  const stamp = join(pkg, 'dist', 'cli', '.stamp.json');
  const later = (path: string) => {
    const t = new Date(Date.now() + 10_000);
    utimesSync(path, t, t);
  };

  it('a source touched after the build runs the TypeScript until the next build', () => {
    expect(traced('compiled', '--help').ran).toBe('compiled');
    later(join(pkg, 'src', 'core', 'errors.ts'));
    const r = traced('compiled', '--help');
    expect(r.ran).toBe('source');
    // Quietly: stdout carries the same help, stderr nothing.
    expect(r.out).toMatch(/^Usage: repayrisk /);
    expect(r.err).toBe('');
    build();
    expect(traced('compiled', '--help').ran).toBe('compiled');
  });

  it('an edited source shows at once, and a source added or a build input changed also stops dist/cli/ running', () => {
    const main = join(pkg, 'src', 'cli', 'main.ts');
    const text = readFileSync(main, 'utf8');
    const was = 'Repayment-risk scoring and strategy for consumer-credit collections';
    expect(text).toContain(was);
    writeFileSync(main, text.replace(was, 'Edited after the build'));
    const edited = traced('compiled', '--help');
    expect(edited.ran).toBe('source');
    expect(edited.out).toContain('Edited after the build');
    build();
    const rebuilt = traced('compiled', '--help');
    expect(rebuilt.ran).toBe('compiled');
    expect(rebuilt.out).toContain('Edited after the build');

    writeFileSync(join(pkg, 'src', 'cli', 'added.ts'), 'export const added = 1;\n');
    expect(traced('compiled', '--help').ran).toBe('source');
    build();
    appendFileSync(join(pkg, 'tsconfig.json'), '\n');
    expect(traced('compiled', '--help').ran).toBe('source');
    build();
    expect(traced('compiled', '--help').ran).toBe('compiled');
  });

  it('a build cut short (no stamp) is not used, nor a stamp that is not one', () => {
    rmSync(stamp);
    expect(traced('compiled', '--help').ran).toBe('source');
    writeFileSync(stamp, '{"sources": ');
    expect(traced('compiled', '--help').ran).toBe('source');
    build();
    expect(traced('compiled', '--help').ran).toBe('compiled');
  });
});
