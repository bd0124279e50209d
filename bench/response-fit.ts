// Bench: fitting the treatment-response models (train --response) on a large logged history.
//   npx tsx bench/response-fit.ts [--snapshots 1000000] [--bags 3] [--model DIR] [--keep DIR]
// Generates a synthetic world big enough (or reuses --keep DIR if it has one), then runs trainResponse as
// `repayrisk train --response` does by default: reading the logged snapshots' features and columns, scoring them with
// the scoring model whose scores the per-treatment lifts use (--model, default the repository's champion), fitting
// bags × {pay, cover} pooled gbdt models on account folds, the score lifts, the report and the artifact. Prints wall
// time and peak RSS per phase, the machine's load average and cores, and the time per 100,000 snapshots (fitting is
// linear in rows: compare runs of different sizes by it). On a shared machine the times are noisy; the proportions
// between phases hold.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateWorld } from '../src/data/generate.ts';
import { trainResponse } from '../src/pipeline/response-train.ts';
import { readPointer } from '../src/registry/artifact.ts';

const { values } = parseArgs({
  options: {
    snapshots: { type: 'string', default: '1000000' },
    bags: { type: 'string', default: '3' },
    model: { type: 'string' },
    keep: { type: 'string' },
  },
});
const target = Number(values.snapshots);
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
const load = () =>
  `load average ${loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')} on ${cpus().length} cores`;
const model =
  values.model ?? join('models', 'repayrisk', readPointer('models', 'repayrisk', 'CHAMPION') ?? '');
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-response-'));
const models = mkdtempSync(join(tmpdir(), 'repayrisk-bench-response-models-'));
try {
  // About 0.053 logged delinquent snapshots per customer-month in a 24-month default world (measured: 915,971 of
  // 718,391 × 24; a 12-month world has more, 21,052 of 30,000 × 12, its early months having fewer seasoned accounts).
  const months = 24;
  const accounts = Math.ceil(target / (months * 0.053));
  if (!existsSync(join(dir, 'world.json'))) {
    const t0 = performance.now();
    await generateWorld({ accounts, months, seed: 5, start: '2024-01-01', out: dir, format: 'parquet' });
    console.log(
      `generate ${accounts} customers × ${months} months: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${rss()}`,
    );
  }
  console.log(`start: ${load()}; scoring model ${model}`);
  const t0 = performance.now();
  let phase = t0;
  // Until the first chunk of snapshots arrives: DuckDB opens and sorts the history's tables.
  let last = 'open the history';
  const r = await trainResponse({
    history: dir,
    modelsRoot: models,
    model,
    seed: 1,
    ootMonths: 3,
    validationShare: 0.2,
    bags: Number(values.bags),
    onProgress: (m) => {
      const head = m.split(':')[0]!;
      if (head !== last) {
        console.log(`  ${last}: ${((performance.now() - phase) / 1000).toFixed(1)} s, ${rss()}`);
        last = head;
        phase = performance.now();
      }
    },
  });
  console.log(`  ${last}: ${((performance.now() - phase) / 1000).toFixed(1)} s, ${rss()}`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `train --response on ${r.snapshots.toLocaleString('en-US')} logged snapshots (${values.bags} bags, cross-fitted, score lift): ${seconds.toFixed(1)} s (${((seconds * 1e5) / r.snapshots).toFixed(1)} s per 100,000 snapshots), ${rss()}`,
  );
  console.log(`end: ${load()}`);
} finally {
  rmSync(models, { recursive: true, force: true });
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
