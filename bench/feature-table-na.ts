// Bench: feature-table mode on a credit table whose numeric columns mark missing values as `NA` (R's and many
// exports' default), the shape of the public "Give Me Some Credit" table: 120,000 rows x 10 features.
//   npm run bench:table [-- --rows 120000 --seed 7 --kinds logistic,gbdt --keep DIR]
//                       [-- --before DIR --timeout 180]
// Writes the table twice from one seed: with `NA` markers in monthly_income (~20% missing) and dependents
// (~2.6% missing), and with empty cells there instead. Each `train --table` fit runs in a child process of its
// own, so its peak RSS is its own. Prints, per kind: seconds, peak RSS, design width and holdout AUC with the
// markers (read as missing by default), then without them, and their ratio; then what `--na ''` (markers
// turned off) does with the same file. Before markers were read as missing, `monthly_income` became a
// categorical with one level per distinct income (about 17,000 levels here). `--before DIR` (a checkout of the
// old code, e.g. `git archive 9b8a9de | tar -x -C DIR` plus a node_modules link) also times the old
// `train --table` on the NA file, killed after `--timeout` seconds (default 180), and prints the ratios.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { sigmoid } from '../src/core/models/contract.ts';
import { createRng } from '../src/core/random.ts';

/** Column order of the generated CSV; the target is last. */
export const CREDIT_COLUMNS = [
  'revolving_utilization',
  'age',
  'late_30_59',
  'debt_ratio',
  'monthly_income',
  'open_credit_lines',
  'late_90',
  'real_estate_loans',
  'late_60_89',
  'dependents',
  'serious_dlq_2y',
] as const;

/**
 * Writes a seeded Give-Me-Some-Credit-like table as CSV: `marker` stands in each missing monthly income and
 * dependents count (`''` for an empty cell). Same rows and seed give the same values whatever the marker.
 * @returns the number of missing cells written per column.
 */
export function writeCreditCsv(
  path: string,
  rows: number,
  seed: number,
  marker: string,
): { monthly_income: number; dependents: number } {
  const rng = createRng(seed);
  const poisson = (mean: number) => {
    // Knuth's method: the means here are small.
    const l = Math.exp(-mean);
    let k = 0;
    let p = rng.next();
    while (p > l) {
      k++;
      p *= rng.next();
    }
    return k;
  };
  const lines: string[] = [CREDIT_COLUMNS.join(',')];
  const missing = { monthly_income: 0, dependents: 0 };
  for (let i = 0; i < rows; i++) {
    const util = Math.min(1.5, Math.exp(-1.6 + 1.1 * rng.normal()));
    const age = Math.max(21, Math.min(99, Math.round(52 + 14.5 * rng.normal())));
    const risky = rng.next() < 0.12;
    const late3059 = risky ? poisson(0.9) : poisson(0.1);
    const late6089 = risky ? poisson(0.35) : poisson(0.02);
    const late90 = risky ? poisson(0.45) : poisson(0.02);
    const incomeMissing = rng.bernoulli(0.2);
    const income = Math.round(5400 * Math.exp(0.62 * rng.normal()));
    const debtRatio = incomeMissing ? Math.round(1500 * rng.next()) : Math.exp(-1.2 + 0.7 * rng.normal());
    const openLines = poisson(8.4);
    const realEstate = poisson(1.0);
    const dependentsMissing = incomeMissing && rng.bernoulli(0.13);
    const dependents = Math.min(8, poisson(0.75));
    const eta =
      -3.9 +
      2.2 * Math.min(util, 1.2) -
      0.025 * (age - 52) +
      0.55 * Math.min(late3059, 4) +
      0.8 * Math.min(late6089, 3) +
      0.9 * Math.min(late90, 3) -
      (incomeMissing ? 0.15 : 0.3 * Math.log(income / 5400)) +
      0.06 * (dependentsMissing ? 0 : dependents) -
      0.02 * Math.min(openLines, 20) +
      0.05 * Math.min(realEstate, 4);
    const y = rng.bernoulli(sigmoid(eta)) ? 1 : 0;
    if (incomeMissing) missing.monthly_income++;
    if (dependentsMissing) missing.dependents++;
    lines.push(
      [
        util.toFixed(6),
        age,
        late3059,
        debtRatio.toFixed(6),
        incomeMissing ? marker : income,
        openLines,
        late90,
        realEstate,
        late6089,
        dependentsMissing ? marker : dependents,
        y,
      ].join(','),
    );
  }
  lines.push('');
  writeFileSync(path, lines.join('\n'));
  return missing;
}

interface FitFigures {
  seconds: number;
  rssMiB: number;
  width: number;
  auc: number;
  error?: string;
}

/** Columns of the design an artifact's features make: 1 per numeric, 1 per level of a categorical. */
function designWidth(dir: string): number {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    features: { type: string; categories?: string[] }[];
  };
  return manifest.features.reduce(
    (w, f) => w + (f.type === 'categorical' ? (f.categories?.length ?? 0) : 1),
    0,
  );
}

/** Runs one `train --table` fit in this process and prints its figures as one JSON line (child mode). */
async function child(table: string, kind: string, na: string | undefined, models: string): Promise<void> {
  const { trainTable } = await import('../src/pipeline/table.ts');
  const t0 = performance.now();
  try {
    const { fit, artifact } = await trainTable({
      table,
      target: 'serious_dlq_2y',
      kind,
      seed: 1,
      calibration: 'platt',
      modelsRoot: models,
      name: 'credit',
      createdAt: '2026-01-01T00:00:00Z',
      ...(na === undefined ? {} : { na: na === '' ? [] : na.split(',') }),
    });
    const out: FitFigures = {
      seconds: (performance.now() - t0) / 1000,
      rssMiB: process.resourceUsage().maxRSS / 1024,
      width: designWidth(artifact.dir),
      auc: fit.chosen.evaluation.outOfTime.auc,
    };
    console.log(JSON.stringify(out));
  } catch (e) {
    const out: FitFigures = {
      seconds: (performance.now() - t0) / 1000,
      rssMiB: process.resourceUsage().maxRSS / 1024,
      width: 0,
      auc: Number.NaN,
      error: (e as Error).message,
    };
    console.log(JSON.stringify(out));
  }
}

/** Times the `train --table` of another checkout on `table` (its CLI, in its folder), killed after `timeout` s. */
function runBefore(before: string, table: string, kind: string, out: string, timeout: number): FitFigures {
  const cli = [
    process.execPath,
    '--import',
    'tsx',
    'src/cli/main.ts',
    'train',
    '--table',
    table,
    '--target',
    'serious_dlq_2y',
    '--kind',
    kind,
    '--calibration',
    'platt',
    '--seed',
    '1',
    '--out',
    out,
    '--name',
    'credit',
  ];
  // GNU time reports the peak RSS of the fit even when the timeout kills it.
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'maxrss_kib=%M elapsed_s=%e', 'timeout', String(timeout), ...cli],
    {
      cwd: before,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const aucMatch = /OOT AUC ([0-9.]+)/.exec(r.stdout);
  const rss = /maxrss_kib=(\d+)/.exec(r.stderr);
  const seconds = Number(/elapsed_s=([0-9.]+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  return {
    seconds,
    rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN,
    width: existsSync(join(out, 'credit'))
      ? designWidth(join(out, 'credit', readdirSync(join(out, 'credit'))[0]!))
      : 0,
    auc: aucMatch ? Number(aucMatch[1]) : Number.NaN,
    ...(r.status === 124
      ? { error: `killed after ${timeout} s` }
      : r.status
        ? { error: r.stderr.trim() }
        : {}),
  };
}

function runChild(table: string, kind: string, na: string | undefined, models: string): FitFigures {
  const args = [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    '--table',
    table,
    '--kind',
    kind,
    '--models',
    models,
  ];
  if (na !== undefined) args.push(`--na=${na}`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(last) as FitFigures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '120000' },
      seed: { type: 'string', default: '7' },
      kinds: { type: 'string', default: 'logistic,gbdt' },
      keep: { type: 'string' },
      child: { type: 'boolean', default: false },
      table: { type: 'string' },
      kind: { type: 'string' },
      models: { type: 'string' },
      na: { type: 'string' },
      before: { type: 'string' },
      timeout: { type: 'string', default: '180' },
      'write-only': { type: 'boolean', default: false },
    },
  });
  if (values.child) {
    await child(values.table!, values.kind!, values.na, values.models!);
  } else {
    const rows = Number(values.rows);
    const seed = Number(values.seed);
    if (values.keep) mkdirSync(values.keep, { recursive: true });
    const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-table-'));
    const withNa = join(dir, 'credit-na.csv');
    const withEmpty = join(dir, 'credit-empty.csv');
    const miss = writeCreditCsv(withNa, rows, seed, 'NA');
    writeCreditCsv(withEmpty, rows, seed, '');
    console.log(
      `table: ${rows.toLocaleString('en-US')} rows x ${CREDIT_COLUMNS.length - 1} features + target (seed ${seed}); ` +
        `NA in monthly_income ${miss.monthly_income.toLocaleString('en-US')}, dependents ${miss.dependents.toLocaleString('en-US')} -> ${dir}`,
    );
    if (!values['write-only']) {
      try {
        const show = (f: FitFigures) =>
          `${f.seconds.toFixed(1).padStart(6)} s ${f.rssMiB.toFixed(0).padStart(5)} MiB peak RSS  width ${String(f.width).padStart(4)}  holdout AUC ${f.auc.toFixed(4)}`;
        for (const kind of values.kinds!.split(',')) {
          const a = runChild(withNa, kind, undefined, join(dir, 'models-na'));
          const b = runChild(withEmpty, kind, undefined, join(dir, 'models-empty'));
          if (a.error || b.error) throw new Error(`${kind}: ${a.error ?? b.error}`);
          console.log(`${kind.padEnd(9)} NA markers (default --na)   ${show(a)}`);
          console.log(`${kind.padEnd(9)} empty cells                 ${show(b)}`);
          console.log(
            `${kind.padEnd(9)} ratio NA / empty: time ${(a.seconds / b.seconds).toFixed(2)}x, RSS ${(a.rssMiB / b.rssMiB).toFixed(2)}x, ` +
              `same width ${a.width === b.width}, AUC difference ${(a.auc - b.auc).toExponential(1)}`,
          );
          if (values.before) {
            const timeout = Number(values.timeout);
            const old = runBefore(
              resolve(values.before),
              withNa,
              kind,
              join(dir, `models-before-${kind}`),
              timeout,
            );
            const time = old.error?.startsWith('killed') ? `> ${timeout} s` : `${old.seconds.toFixed(1)} s`;
            console.log(
              `${kind.padEnd(9)} before (${values.before}): ${time}, ${old.rssMiB.toFixed(0)} MiB peak RSS, width ${old.width || '?'}` +
                `${Number.isNaN(old.auc) ? '' : `, holdout AUC ${old.auc.toFixed(4)}`}${old.error && !old.error.startsWith('killed') ? ` (failed: ${old.error})` : ''}`,
            );
            console.log(
              `${kind.padEnd(9)} ratio before / now: time ${old.error?.startsWith('killed') ? '>' : ''}${(old.seconds / a.seconds).toFixed(1)}x, ` +
                `RSS ${(old.rssMiB / a.rssMiB).toFixed(1)}x${Number.isNaN(old.auc) ? '' : `, AUC now - before ${(a.auc - old.auc).toFixed(4)}`}`,
            );
          }
        }
        const off = runChild(withNa, 'logistic', '', join(dir, 'models-off'));
        console.log(
          `--na '' (markers off): ${off.error ? `refused in ${off.seconds.toFixed(1)} s: ${off.error}` : show(off)}`,
        );
      } finally {
        if (!values.keep) rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}
