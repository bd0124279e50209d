import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers/tmp.ts';

/** Runs the installed-style entry point as a user would, capturing output and exit code. */
function repayrisk(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/repayrisk.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('repayrisk CLI', () => {
  const dir = tmpDir();

  it('has --help on every command', () => {
    const top = repayrisk('--help');
    expect(top.code).toBe(0);
    for (const cmd of [
      'generate',
      'validate',
      'ingest',
      'summary',
      'train',
      'evaluate',
      'promote',
      'score',
      'decide',
    ]) {
      expect(top.out).toContain(cmd);
      const h = repayrisk(cmd, '--help');
      expect(h.code, cmd).toBe(0);
      expect(h.out).toMatch(new RegExp(`^Usage: repayrisk ${cmd}`));
    }
  });

  it('exits 2 with a one-line reason on bad arguments', () => {
    const bad = repayrisk('generate', '--accounts', 'many', '--out', join(dir, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toBe(
      "error: option '--accounts <n>' argument 'many' is invalid. --accounts must be an integer, got 'many'",
    );
    const fmt = repayrisk('generate', '--accounts', '5', '--format', 'xlsx', '--out', join(dir, 'x'));
    expect(fmt.code).toBe(2);
    expect(fmt.err).toContain("--format must be one of csv|parquet, got 'xlsx'");
    const unknown = repayrisk('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    const missing = repayrisk('validate');
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe(
      'repayrisk: validate needs --history DIR, or --file PATH with --table NAME',
    );
  });

  it('generates a Parquet world, validates it and summarises it', () => {
    const out = join(dir, 'pq');
    const g = repayrisk(
      'generate',
      '--accounts',
      '200',
      '--months',
      '3',
      '--seed',
      '4',
      '--format',
      'parquet',
      '--out',
      out,
    );
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/accounts\s+\d+ rows\s+.*accounts\.parquet/);
    const world = JSON.parse(readFileSync(join(out, 'world.json'), 'utf8'));
    expect(world.config).toEqual({ accounts: 200, months: 3, seed: 4, start: '2024-01-01' });
    const v = repayrisk('validate', '--history', out);
    expect(v.code, v.err).toBe(0);
    expect(v.out.trim().split('\n')).toHaveLength(6);
    const s = repayrisk('summary', '--history', out, '--json');
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out).snapshots).toBe(world.rows.accounts);
  });

  it('fails validation with exit 2 and names file, row and column', () => {
    const lines = readFileSync('data-samples/outcomes.csv', 'utf8').split('\n');
    lines[3] = lines[3]!
      .replace(/^([^,]*),([^,]*),/, '$1,$2,abc,')
      .split(',')
      .slice(0, 4)
      .join(',');
    const bad = join(dir, 'outcomes.csv');
    writeFileSync(bad, lines.join('\n'));
    const v = repayrisk('validate', '--file', bad, '--table', 'outcomes');
    expect(v.code).toBe(2);
    expect(v.err).toContain(
      "outcomes.csv: row 3 (line 4), column 'paid_30d': expected a number in [0, 1e12], got 'abc'",
    );
  });

  it('fails with exit 1 when a history folder has no accounts table', () => {
    const v = repayrisk('summary', '--history', join(dir, 'empty-nothing-here'));
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/missing table file\(s\) accounts\.csv\|accounts\.parquet/);
  });
});

describe('repayrisk train / evaluate / promote on bad input', () => {
  it('names the problem and exits 2', () => {
    const both = repayrisk('train', '--history', 'data-samples', '--table', 'x.csv');
    expect(both.code).toBe(2);
    expect(both.err.trim()).toBe('repayrisk: train needs exactly one of --history DIR or --table FILE');
    const kind = repayrisk('train', '--history', 'data-samples', '--kind', 'xgboost');
    expect(kind.code).toBe(2);
    expect(kind.err).toContain("--kind must be one of logistic|scorecard|mlp|gbdt|auto, got 'xgboost'");
    const params = repayrisk('train', '--history', 'data-samples', '--params', '{oops');
    expect(params.code).toBe(2);
    expect(params.err).toContain('--params must be a JSON object');
  });

  it('refuses to load a folder that is not a model artifact (exit 1)', () => {
    const r = repayrisk('promote', '--model', 'data-samples', '--history', 'data-samples');
    expect(r.code).toBe(1);
    expect(r.err).toContain('data-samples: no manifest.json; is this a model artifact folder?');
  });
});
