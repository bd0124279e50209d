// Feature tables as real exports write them: numeric columns that mark missing values as `NA`, `N/A`, `null`
// or an empty cell stay numeric, and a text column with hundreds of distinct values is refused or pooled.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../src/core/random.ts';
import { OTHER_LEVEL, tableFeatures, tableMatrix } from '../src/core/training/table-design.ts';
import { withDuckDB } from '../src/data/duckdb.ts';
import { DEFAULT_NA_MARKERS, readFeatureTable } from '../src/data/feature-table.ts';
import { scoreTable, trainTable } from '../src/pipeline/table.ts';
import { cliInProcess } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const dir = tmpDir('repayrisk-na-');

interface Written {
  path: string;
  /** Row indices (0-based) whose income / dependents were written as missing. */
  missingIncome: number[];
  missingDependents: number[];
}

/**
 * A seeded credit-like table: income (missing ~20%), dependents (missing ~5%), utilisation, a region with four
 * levels, target `bad`. `marker(i)` is written for the i-th missing cell; the same seed gives the same values.
 */
function writeTable(
  name: string,
  rows: number,
  marker: (k: number) => string,
  extra?: (i: number) => string,
) {
  const rng = createRng(11);
  const lines = [`id,income,dependents,utilisation,region,bad${extra ? ',extra' : ''}`];
  const w: Written = { path: join(dir, name), missingIncome: [], missingDependents: [] };
  let k = 0;
  for (let i = 0; i < rows; i++) {
    const incomeMissing = rng.bernoulli(0.2);
    const income = Math.round(3000 * Math.exp(0.5 * rng.normal()));
    const depMissing = rng.bernoulli(0.05);
    const dependents = Math.floor(rng.next() * 4);
    const util = rng.next();
    const region = ['north', 'south', 'east', 'west'][Math.floor(rng.next() * 4)]!;
    const eta = -1 + 2.5 * util - (incomeMissing ? -0.5 : 0.6 * Math.log(income / 3000)) + 0.1 * dependents;
    const bad = rng.bernoulli(1 / (1 + Math.exp(-eta))) ? 1 : 0;
    if (incomeMissing) w.missingIncome.push(i);
    if (depMissing) w.missingDependents.push(i);
    const cells = [
      `a${i}`,
      incomeMissing ? marker(k++) : String(income),
      depMissing ? marker(k++) : String(dependents),
      util.toFixed(4),
      region,
      String(bad),
    ];
    if (extra) cells.push(extra(i));
    lines.push(cells.join(','));
  }
  writeFileSync(w.path, `${lines.join('\n')}\n`);
  return w;
}

const MARKERS = ['NA', 'N/A', 'null', '', ' NA ', 'NaN', 'None', 'NULL'];
const spec = { target: 'bad', id: 'id' };

const cli = cliInProcess;

describe('NA-style markers in a feature table', () => {
  const marked = writeTable('marked.csv', 600, (k) => MARKERS[k % MARKERS.length]!);
  const empty = writeTable('empty.csv', 600, () => '');

  it('reads NA, N/A, null, NaN, None, NULL, " NA " and empty cells as missing: the columns stay numeric', async () => {
    const t = await readFeatureTable(marked.path);
    const income = t.names.indexOf('income');
    const dependents = t.names.indexOf('dependents');
    expect(t.types[income]).not.toBe('VARCHAR');
    expect(t.types[dependents]).not.toBe('VARCHAR');
    const nulls = (j: number) =>
      t.columns[j]!.flatMap((v, i) => (v === null ? [i] : [])).sort((a, b) => a - b);
    expect(nulls(income)).toEqual(marked.missingIncome);
    expect(nulls(dependents)).toEqual(marked.missingDependents);
    expect(t.columns[income]!.every((v) => v === null || typeof v === 'number')).toBe(true);
    expect(t.na).toEqual(DEFAULT_NA_MARKERS);
  });

  it('reads the same markers in a Parquet file whose columns were written as text', async () => {
    const parquet = join(dir, 'marked.parquet');
    await withDuckDB(async (conn) => {
      await conn.run(
        `COPY (SELECT * FROM read_csv('${marked.path}', all_varchar = true)) TO '${parquet}' (FORMAT parquet)`,
      );
    });
    const p = await readFeatureTable(parquet);
    expect(p.types[p.names.indexOf('income')]).toBe('DOUBLE');
    const c = await readFeatureTable(empty.path);
    expect(tableFeatures(p, spec)).toEqual(tableFeatures(c, spec));
    expect(Array.from(tableMatrix(p, tableFeatures(p, spec)).data)).toEqual(
      Array.from(tableMatrix(c, tableFeatures(c, spec)).data),
    );
    // A Parquet file has no lines: a bad cell is named by its row.
    const off = await readFeatureTable(parquet, { na: [] });
    let message = '';
    try {
      tableFeatures(off, spec);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/: row \d+, column 'income': expected a number or a missing-value marker, got '/);
    expect(message.startsWith(`${parquet}: row `)).toBe(true);
    expect(message).not.toContain('(line ');
  });

  it('gives the same features and design matrix as the same table with empty cells', async () => {
    const a = await readFeatureTable(marked.path);
    const b = await readFeatureTable(empty.path);
    const fa = tableFeatures(a, spec);
    const fb = tableFeatures(b, spec);
    expect(fa).toEqual(fb);
    expect(fa.map((f) => f.type)).toEqual(['numeric', 'numeric', 'numeric', 'categorical']);
    const width = (fs: typeof fa) => fs.reduce((w, f) => w + (f.categories?.length ?? 1), 0);
    expect(width(fa)).toBe(3 + 4);
    const xa = tableMatrix(a, fa);
    const xb = tableMatrix(b, fb);
    expect(Array.from(xa.data)).toEqual(Array.from(xb.data));
  });

  it('fits exactly the model of the empty-cell table, records the markers and scores with them', async () => {
    const models = tmpDir();
    const base = { ...spec, kind: 'logistic', calibration: 'platt' as const, seed: 3, modelsRoot: models };
    const a = await trainTable({ ...base, table: marked.path, name: 'marked' });
    const b = await trainTable({ ...base, table: empty.path, name: 'empty' });
    const ma = JSON.parse(readFileSync(join(a.artifact.dir, 'manifest.json'), 'utf8'));
    const mb = JSON.parse(readFileSync(join(b.artifact.dir, 'manifest.json'), 'utf8'));
    expect(ma.data.sha256).toBe(mb.data.sha256);
    expect(ma.targets.bad.sha256).toBe(mb.targets.bad.sha256);
    const income = ma.features.find((f: { name: string }) => f.name === 'income');
    expect(income.type).toBe('numeric');
    expect(income.missingShare).toBeCloseTo(marked.missingIncome.length / 600, 12);
    expect(ma.table.na).toEqual(DEFAULT_NA_MARKERS);
    // Missing income has an effect of its own and low income raises risk: the fit sees both.
    expect(a.fit.chosen.evaluation.outOfTime.auc).toBeGreaterThan(0.6);

    const outA = join(dir, 'scores-a.csv');
    const outB = join(dir, 'scores-b.csv');
    expect(await scoreTable({ model: a.artifact.dir, table: marked.path, out: outA })).toBe(600);
    await scoreTable({ model: a.artifact.dir, table: empty.path, out: outB });
    expect(readFileSync(outA, 'utf8')).toBe(readFileSync(outB, 'utf8'));
    // Told that only empty cells are missing, scoring names a marker it meets as a bad cell.
    await expect(
      scoreTable({ model: a.artifact.dir, table: marked.path, out: outA, na: [] }),
    ).rejects.toThrow(
      /row \d+ \(line \d+\), column 'income': expected a number or a missing-value marker, got '/,
    );
  }, 60_000);

  it('--na replaces the markers: a "." marker is read only when named, and --na "" turns NA off', async () => {
    const dots = writeTable('dots.csv', 300, () => '.');
    const first = dots.missingIncome[0]!;
    const t = await readFeatureTable(dots.path);
    expect(() => tableFeatures(t, spec)).toThrow(
      `${dots.path}: row ${first + 1} (line ${first + 2}), column 'income': expected a number or a missing-value marker, got '.'`,
    );
    const withDot = await readFeatureTable(dots.path, { na: ['.'] });
    expect(tableFeatures(withDot, spec).find((f) => f.name === 'income')!.type).toBe('numeric');

    const models = tmpDir();
    const off = await cli(
      'train',
      '--table',
      marked.path,
      '--target',
      'bad',
      '--id',
      'id',
      '--kind',
      'logistic',
      '--na',
      '',
      '--out',
      models,
    );
    expect(off.code).toBe(2);
    expect(off.err).toMatch(
      /column 'income': expected a number or a missing-value marker, got '(NA|N\/A|null| NA |NaN|None|NULL)'/,
    );
    expect(off.err).toContain('If it marks a missing value, add it to --na');
    const on = await cli(
      'train',
      '--table',
      dots.path,
      '--target',
      'bad',
      '--id',
      'id',
      '--kind',
      'logistic',
      '--na',
      '.',
      '--out',
      models,
      '--name',
      'dots',
    );
    expect(on.err).toBe('');
    expect(on.code).toBe(0);
    const dir0 = on.out
      .trim()
      .split('\n')
      .pop()!
      .replace(/^wrote /, '');
    expect(JSON.parse(readFileSync(join(dir0, 'manifest.json'), 'utf8')).table.na).toEqual(['.']);
    // score --table reads with the recorded '.', and --na overrides it.
    const out = join(dir, 'dots-scores.csv');
    const scored = await cli('score', '--model', dir0, '--table', dots.path, '--out', out);
    expect(scored.err).toBe('');
    expect(scored.out).toBe(`scored 300 rows -> ${out}\n`);
    const strict = await cli('score', '--model', dir0, '--table', dots.path, '--out', out, '--na', '');
    expect(strict.code).toBe(2);
    expect(strict.err).toContain("column 'income': expected a number or a missing-value marker, got '.'");
    // evaluate --table takes --na too.
    const cv = await cli(
      'evaluate',
      '--table',
      dots.path,
      '--target',
      'bad',
      '--id',
      'id',
      '--kind',
      'logistic',
      '--cv',
      '2',
      '--na',
      '.',
    );
    expect(cv.err).toBe('');
    expect(cv.code).toBe(0);
    expect(cv.out).toMatch(/logistic +mean AUC 0\.\d{4}/);
  }, 60_000);
});

describe('a bad cell in a numeric column', () => {
  it('is named with its row, line, column and value, inside and past DuckDB’s type-detection sample', async () => {
    for (const rows of [200, 25_000]) {
      const bad = rows - 3;
      const w = writeTable(`bad-${rows}.csv`, rows, (k) => (k % 2 ? 'NA' : ' NA '));
      const text = readFileSync(w.path, 'utf8').split('\n');
      const cells = text[bad + 1]!.split(',');
      cells[3] = 'abc'; // utilisation
      text[bad + 1] = cells.join(',');
      writeFileSync(w.path, text.join('\n'));
      const t = await readFeatureTable(w.path);
      // The markers spelled with spaces past the sample are still read as missing.
      expect(t.types[t.names.indexOf('income')]).not.toBe('VARCHAR');
      expect(() => tableFeatures(t, spec)).toThrow(
        `${w.path}: row ${bad + 1} (line ${bad + 2}), column 'utilisation': expected a number or a missing-value marker, got 'abc' (1 of its ${rows.toLocaleString('en-US')} values are not numbers)`,
      );
    }
  }, 60_000);
});

describe('a high-cardinality text column', () => {
  // 260 distinct references, the first 20 frequent (10 rows each), the other 240 once each.
  const ref = (i: number) =>
    i < 200 ? `r${String(i % 20).padStart(3, '0')}` : `r${String(i).padStart(3, '0')}`;
  const w = writeTable('refs.csv', 440, () => 'NA', ref);

  it('is refused with its name and distinct count unless --categorical names it', async () => {
    const t = await readFeatureTable(w.path);
    expect(() => tableFeatures(t, spec)).toThrow(
      "column 'extra' is text with 260 distinct values (more than 200): if it is an identifier, pass it as --id",
    );
    const models = tmpDir();
    const r = await cli('train', '--table', w.path, '--target', 'bad', '--id', 'id', '--out', models);
    expect(r.code).toBe(2);
    expect(r.err).toContain("column 'extra' is text with 260 distinct values (more than 200)");
  });

  it('named in --categorical, keeps its most frequent levels and pools the rest into one level', async () => {
    const t = await readFeatureTable(w.path);
    const f = tableFeatures(t, { ...spec, categorical: ['extra'], maxCategories: 50 });
    const extra = f.find((x) => x.name === 'extra')!;
    expect(extra.categories).toHaveLength(50);
    expect(extra.categories![49]).toBe(OTHER_LEVEL);
    for (let k = 0; k < 20; k++) expect(extra.categories).toContain(`r${String(k).padStart(3, '0')}`);
    // Pooled levels and a value never seen at fit both take the pool's code.
    const x = tableMatrix(
      { names: ['extra'], types: ['VARCHAR'], columns: [['r005', 'r439', 'never-seen', null]], rows: 4 },
      [extra],
    );
    const code = (s: string) => extra.categories!.indexOf(s);
    expect(Array.from(x.data)).toEqual([code('r005'), 49, 49, Number.NaN]);
    // At the default cap a fit works and the column is 200 levels wide.
    const models = tmpDir();
    const fit = await trainTable({
      ...spec,
      table: w.path,
      categorical: ['extra'],
      kind: 'logistic',
      calibration: 'platt',
      seed: 1,
      modelsRoot: models,
      name: 'refs',
    });
    const m = JSON.parse(readFileSync(join(fit.artifact.dir, 'manifest.json'), 'utf8'));
    const stored = m.features.find((x: { name: string }) => x.name === 'extra');
    expect(stored.categories).toHaveLength(200);
    expect(m.table.maxCategories).toBe(200);
  }, 60_000);
});
