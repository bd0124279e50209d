// Bench: fitting the treatment-response models (train --response) on a large logged history.
//   npx tsx bench/response-fit.ts [--snapshots 1000000] [--bags 3] [--keep DIR]
// Generates a synthetic world big enough (or reuses --keep DIR if it has one), then runs trainResponse: reading the
// logged snapshots with their features, and fitting bags × {pay, cover} pooled gbdt models. Prints wall time per
// phase and peak RSS. On a shared machine the times are noisy; the proportions between phases hold.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateWorld } from '../src/data/generate.ts';
import { trainResponse } from '../src/pipeline/response-train.ts';

const { values } = parseArgs({
  options: {
    snapshots: { type: 'string', default: '1000000' },
    bags: { type: 'string', default: '3' },
    keep: { type: 'string' },
  },
});
const target = Number(values.snapshots);
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-response-'));
const models = mkdtempSync(join(tmpdir(), 'repayrisk-bench-response-models-'));
try {
  // About 0.058 logged delinquent snapshots per customer-month in the default world (measured: 21,052 of 30,000 × 12).
  const months = 24;
  const accounts = Math.ceil(target / (months * 0.058));
  if (!existsSync(join(dir, 'world.json'))) {
    const t0 = performance.now();
    await generateWorld({ accounts, months, seed: 5, start: '2024-01-01', out: dir, format: 'parquet' });
    console.log(
      `generate ${accounts} customers × ${months} months: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${rss()}`,
    );
  }
  let phase = performance.now();
  let last = '';
  const t0 = performance.now();
  const r = await trainResponse({
    history: dir,
    modelsRoot: models,
    seed: 1,
    ootMonths: 3,
    validationShare: 0.2,
    bags: Number(values.bags),
    onProgress: (m) => {
      const head = m.split(':')[0]!;
      if (head !== last) {
        if (last) console.log(`  ${last}: ${((performance.now() - phase) / 1000).toFixed(1)} s, ${rss()}`);
        last = head;
        phase = performance.now();
      }
    },
  });
  console.log(`  ${last}: ${((performance.now() - phase) / 1000).toFixed(1)} s, ${rss()}`);
  console.log(
    `train --response on ${r.snapshots.toLocaleString('en-US')} logged snapshots (${values.bags} bags): ${((performance.now() - t0) / 1000).toFixed(1)} s, ${rss()}`,
  );
} finally {
  rmSync(models, { recursive: true, force: true });
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
