// Bench helper: a seeded synthetic binary table with known true probabilities, for the gbdt bench and its
// XGBoost peer (bench/xgb_hist.py reads the CSV this writes, so both fit exactly the same rows).
//   npx tsx bench/gbdt-table.ts --rows 120000 [--seed 1] --out /tmp/gbdt-120k.csv
// Ten features: eight numeric with nonlinear effects (a step, a sine, a product, a square, a log, a kink, a
// linear term and one pure-noise column), one numeric with 5% missing values (missing has an effect of its
// own), and one categorical with six levels coded 0..5. The logit is a fixed formula of these (TABLE_LOGIT
// below); labels are Bernoulli draws from the true probability, so the true p gives the oracle AUC.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type FeatureInfo, type Matrix, matrix, sigmoid } from '../src/core/models/contract.ts';
import { createRng } from '../src/core/random.ts';

/** The table: features row-major (NaN = missing), labels, and the true P(y = 1) each label was drawn from. */
export interface GbdtTable {
  x: Matrix;
  y: Uint8Array;
  p: Float64Array;
  features: FeatureInfo[];
}

const CATEGORY_WEIGHTS = [0.3, 0.25, 0.18, 0.12, 0.1, 0.05];
const CATEGORY_EFFECTS = [-0.6, -0.2, 0, 0.3, 0.6, 1.0];

/** Column order of the table and the CSV (the CSV adds the label `y` last). */
export const TABLE_FEATURES: FeatureInfo[] = [
  { name: 'step', type: 'numeric' },
  { name: 'wave', type: 'numeric' },
  { name: 'prod_a', type: 'numeric' },
  { name: 'prod_b', type: 'numeric' },
  { name: 'square', type: 'numeric' },
  { name: 'income', type: 'numeric' },
  { name: 'kink', type: 'numeric' },
  { name: 'noise', type: 'numeric' },
  { name: 'gappy', type: 'numeric' },
  { name: 'segment', type: 'categorical', categories: CATEGORY_WEIGHTS.map((_, k) => `s${k}`) },
];

/** How the true logit is formed, printed by the benches so a reader knows what "oracle" means. */
export const TABLE_LOGIT =
  '-2.0 + 1.2·[step > 0.6] + 0.8·sin(2·wave) + 0.9·prod_a·prod_b - 0.4·square² - 0.5·ln(income/2000) ' +
  '+ 0.8·max(0, kink - 0.5) + 0.3·kink + (gappy missing ? 0.5 : 0.4·min(gappy, 1)) + segment effect ' +
  `[${CATEGORY_EFFECTS.join(', ')}]`;

/**
 * Draws `rows` rows of the table from `seed` (same seed and rows → identical table; a different seed gives an
 * independent sample of the same distribution, e.g. a test set).
 */
export function makeGbdtTable(rows: number, seed: number): GbdtTable {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be an integer >= 1, got ${rows}`);
  const rng = createRng(seed);
  const cols = TABLE_FEATURES.length;
  const data = new Float64Array(rows * cols);
  const y = new Uint8Array(rows);
  const p = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const step = rng.next();
    const wave = rng.normal();
    const a = rng.normal();
    const b = rng.next() * 2 - 1;
    const square = rng.normal();
    const income = 2000 * Math.exp(0.5 * rng.normal());
    const kink = rng.next() * 3;
    const noise = rng.normal();
    const gappy = rng.bernoulli(0.05) ? Number.NaN : rng.normal();
    const segment = rng.categorical(CATEGORY_WEIGHTS);
    const eta =
      -2.0 +
      (step > 0.6 ? 1.2 : 0) +
      0.8 * Math.sin(2 * wave) +
      0.9 * a * b -
      0.4 * square * square -
      0.5 * Math.log(income / 2000) +
      0.8 * Math.max(0, kink - 0.5) +
      0.3 * kink +
      (Number.isNaN(gappy) ? 0.5 : 0.4 * Math.min(gappy, 1)) +
      CATEGORY_EFFECTS[segment]!;
    const o = i * cols;
    data[o] = step;
    data[o + 1] = wave;
    data[o + 2] = a;
    data[o + 3] = b;
    data[o + 4] = square;
    data[o + 5] = income;
    data[o + 6] = kink;
    data[o + 7] = noise;
    data[o + 8] = gappy;
    data[o + 9] = segment;
    p[i] = sigmoid(eta);
    y[i] = rng.bernoulli(p[i]!) ? 1 : 0;
  }
  return { x: matrix(data, rows, cols), y, p, features: TABLE_FEATURES.map((f) => ({ ...f })) };
}

/**
 * Writes the table as CSV: a header of the feature names plus `y`, one line per row; numbers in JavaScript's
 * shortest round-trip form (so a reader parsing them as float64 gets the exact values), a missing value as an
 * empty cell, the categorical column as its integer code.
 */
export function writeGbdtCsv(path: string, table: GbdtTable): void {
  const { x, y } = table;
  const lines: string[] = [`${table.features.map((f) => f.name).join(',')},y`];
  const cells: string[] = new Array(x.cols + 1);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) {
      const v = x.data[i * x.cols + j]!;
      cells[j] = Number.isNaN(v) ? '' : String(v);
    }
    cells[x.cols] = String(y[i]);
    lines.push(cells.join(','));
  }
  lines.push('');
  writeFileSync(path, lines.join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '150000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  if (!values.out) throw new Error('gbdt-table: --out FILE.csv is required');
  const table = makeGbdtTable(Number(values.rows), Number(values.seed));
  writeGbdtCsv(values.out, table);
  let pos = 0;
  for (const v of table.y) pos += v;
  console.log(
    `wrote ${values.out}: ${table.x.rows.toLocaleString('en-US')} rows x ${table.x.cols} features (seed ${values.seed}), ` +
      `positive rate ${(pos / table.x.rows).toFixed(4)}`,
  );
}
