// Bench: training both models on about 1,000,000 delinquent snapshot rows.
//   npx tsx bench/train.ts [--snapshots 1000000] [--kinds logistic,scorecard,mlp,gbdt] [--keep DIR] [--params JSON]
// Generates a synthetic world big enough (or reuses --keep DIR if it has one), builds the point-in-time
// features once, then fits each kind on both targets. Prints wall time, rows/s and peak RSS per phase and kind.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { FEATURES, featureInfos } from '../src/core/features/definitions.ts';
import { KINDS } from '../src/core/models/kinds.ts';
import { takeRows, takeValues } from '../src/core/models/rows.ts';
import { fitTarget } from '../src/core/training/fit-target.ts';
import { labelTarget, TARGETS } from '../src/core/training/labels.ts';
import { outOfTimeSplit } from '../src/core/training/split.ts';
import { generateWorld } from '../src/data/generate.ts';
import { loadSnapshotDataset } from '../src/data/snapshot-dataset.ts';
import { againstOracle } from '../src/pipeline/oracle.ts';

// As the repayrisk command runs (see heap-tuning.ts).
widenYoungGeneration();

const { values } = parseArgs({
  options: {
    snapshots: { type: 'string', default: '1000000' },
    kinds: { type: 'string', default: 'logistic,scorecard,mlp,gbdt' },
    keep: { type: 'string' },
    params: { type: 'string', default: '{}' },
  },
});
/** Hyperparameters per kind, as `repayrisk train --params`. */
const params = JSON.parse(values.params!) as Record<string, unknown>;
const target = Number(values.snapshots);
const kinds = values.kinds!.split(',');
const rss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB peak RSS`;
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'repayrisk-bench-train-'));
try {
  // About 0.053 delinquent snapshots per customer-month in the default world (measured).
  const months = 24;
  const accounts = Math.ceil(target / (months * 0.053));
  if (!existsSync(join(dir, 'world.json'))) {
    const t0 = performance.now();
    await generateWorld({ accounts, months, seed: 5, start: '2024-01-01', out: dir, format: 'csv' });
    console.log(
      `generate  ${accounts.toLocaleString('en-US')} customers x ${months} months: ${((performance.now() - t0) / 1000).toFixed(0)} s, ${rss()}`,
    );
  }
  const t1 = performance.now();
  const ds = await loadSnapshotDataset(dir, { limit: target });
  const tFeat = (performance.now() - t1) / 1000;
  console.log(
    `features  ${ds.x.rows.toLocaleString('en-US')} delinquent snapshots x ${ds.x.cols} features: ${tFeat.toFixed(0)} s, ${Math.round(ds.x.rows / tFeat).toLocaleString('en-US')} snapshots/s, ${rss()}`,
  );
  const split = outOfTimeSplit(ds.asOf, ds.accountIds, { ootMonths: 3, validationShare: 0.2, seed: 1 });
  const features = featureInfos(FEATURES);
  for (const name of kinds) {
    const kind = KINDS[name]!;
    for (const t of TARGETS) {
      const lab = labelTarget(t, ds.paid30, ds.overdue);
      const t2 = performance.now();
      const fit = await fitTarget({
        x: takeRows(ds.x, lab.rows),
        y: lab.y,
        roles: takeValues(split.roles, lab.rows),
        features,
        kinds: [{ kind, params: kind.parseParams(params[name] ?? {}) }],
        seed: 1,
        calibration: 'platt',
      });
      const secs = (performance.now() - t2) / 1000;
      const m = fit.chosen.evaluation.outOfTime;
      const [vs] = againstOracle(ds, t, lab, takeValues(split.roles, lab.rows), [fit.chosen]);
      const oracle = vs?.oracleAuc ?? Number.NaN;
      console.log(
        `${name.padEnd(10)} ${t.padEnd(12)} ${lab.rows.length.toLocaleString('en-US')} rows: fit+calibrate+evaluate ${secs.toFixed(1)} s, ` +
          `${Math.round(lab.rows.length / secs).toLocaleString('en-US')} rows/s, OOT AUC ${m.auc.toFixed(4)} (oracle ${oracle.toFixed(4)}, gap ${(oracle - m.auc).toFixed(4)}), ${rss()}`,
      );
    }
  }
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
