// Writes the lift tables of a policy (`response.lifts`) from a fitted treatment-response artifact, never from a
// generator's truth (DESIGN §6, issue 13): per segment, the mean logit difference between the fitted response and
// the scores over the history's logged accounts inside each treatment's logged support.
//
//   npx tsx scripts/write-lifts.ts [--history data-samples] [--response DIR] [--model DIR]
//                                  [--policy policies/default.yaml] [--write]
//
// Without --response it fits one as a strategy team would (`repayrisk train --history H --response --model M --seed 1`,
// into a temporary folder; the artifact version is reproducible: the same data and seed give the same version).
// --model defaults to the champion under models/. Prints the block; --write replaces the policy file's
// `  lifts:` block (up to the next blank line) with it, leaving every other line as it was.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SNAPSHOT_FEATURES } from '../src/core/features/schema.ts';
import { segmentOf } from '../src/core/policy/decide.ts';
import { SEGMENTS } from '../src/core/policy/schema.ts';
import { TREATMENTS } from '../src/core/schema/enums.ts';
import { predictCalibrated } from '../src/core/training/fit-target.ts';
import { predictResponses } from '../src/core/uplift/response-set.ts';
import { estimateLifts, type LiftTable } from '../src/core/uplift/segment-lifts.ts';
import { readLoggedSnapshots } from '../src/pipeline/response-data.ts';
import { readPointer } from '../src/registry/artifact.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import { loadResponseArtifact } from '../src/registry/response-artifact.ts';
import { loadScoringModel } from '../src/service/live.ts';

const { values } = parseArgs({
  options: {
    history: { type: 'string', default: 'data-samples' },
    response: { type: 'string' },
    model: { type: 'string' },
    policy: { type: 'string', default: 'policies/default.yaml' },
    write: { type: 'boolean', default: false },
  },
});
const history = values.history;

/**
 * Treatments no history logs, priced as the nearest one that is logged (where that one has an estimate): a field
 * visit is a conversation in person, like a call; an agency placement ends in recovery action, like legal.
 */
const PROXIES = { field_visit: 'human_call', agency_placement: 'legal' } as const;

/** Two decimals, as the policy files carry lifts (never -0). */
const r2 = (v: number) => Math.round(v * 100) / 100 || 0;

let tmp: string | null = null;
let responseDir = values.response;
const modelDir = values.model ?? join('models', 'repayrisk', readPointer('models', 'repayrisk', 'CHAMPION')!);
if (!responseDir) {
  tmp = mkdtempSync(join(tmpdir(), 'repayrisk-lifts-'));
  const out = execFileSync(
    'npx',
    [
      'tsx',
      'src/cli/main.ts',
      'train',
      '--history',
      history,
      '--response',
      '--model',
      modelDir,
      '--seed',
      '1',
      '--out',
      tmp,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  responseDir = /(?:wrote|identical artifact already present) (\S+)/.exec(out)?.[1];
  if (!responseDir) throw new Error(`train --response printed no artifact folder:\n${out}`);
}
try {
  const model = await loadScoringModel(modelDir);
  const response = await loadResponseArtifact(responseDir, SNAPSHOT_FEATURES, model.version);
  const policy = await readPolicyFile(values.policy);
  const data = await readLoggedSnapshots(history, (d) => Date.parse(`${d}T12:00:00Z`));
  const w = predictCalibrated(model.willingness, data.x);
  const a = predictCalibrated(model.ability, data.x);
  const segment = Int32Array.from(w, (wi, i) =>
    SEGMENTS.indexOf(segmentOf({ willingness: wi, ability: a[i]! }, policy.champion)),
  );
  const table = estimateLifts(
    predictResponses(response.set, data.x, data.dpd, { willingness: w, ability: a, version: model.version }),
    w,
    a,
    segment,
    PROXIES,
  );
  const block = liftsBlock(table, {
    response: `${response.manifest.name}/${response.manifest.version}`,
    history,
    model: model.version,
    snapshots: data.x.rows,
  });
  if (values.write) {
    const text = readFileSync(values.policy, 'utf8');
    const lines = text.split('\n');
    const start = lines.indexOf('  lifts:');
    if (start < 0) throw new Error(`${values.policy}: no '  lifts:' line under response:`);
    let end = start + 1;
    while (end < lines.length && lines[end]!.trim() !== '') end++;
    lines.splice(start, end - start, ...block.split('\n'));
    writeFileSync(values.policy, lines.join('\n'));
    console.log(`wrote the lifts of ${values.policy} from ${response.manifest.version}`);
    // The built-in defaults (a policy without a lifts block) are the same numbers: policies/default.yaml is
    // exactly the built-in defaults (test/policy-load.test.ts).
    if (values.policy === 'policies/default.yaml') {
      const schema = 'src/core/policy/schema.ts';
      const src = readFileSync(schema, 'utf8');
      const head =
        'const DEFAULT_LIFTS: Record<Segment, Record<Treatment, { pay: number; cover: number }>> = {';
      const from = src.indexOf(head);
      const to = src.indexOf('\n};\n', from);
      if (from < 0 || to < 0) throw new Error(`${schema}: no DEFAULT_LIFTS constant to rewrite`);
      writeFileSync(schema, `${src.slice(0, from)}${head}\n${defaultLiftsBody(table)}${src.slice(to)}`);
      console.log(`wrote DEFAULT_LIFTS of ${schema}`);
    }
  } else console.log(block);
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

/** The body of schema.ts's DEFAULT_LIFTS (segments and treatments in order, two decimals). */
function defaultLiftsBody(table: LiftTable): string {
  return SEGMENTS.map(
    (s) =>
      `  ${s}: {\n${TREATMENTS.map((t) => `    ${t}: { pay: ${r2(table[s][t].pay)}, cover: ${r2(table[s][t].cover)} },`).join('\n')}\n  },`,
  ).join('\n');
}

/** The policy file's `lifts:` block, two-space indented under `response:`, each lift's source as a comment. */
function liftsBlock(
  table: LiftTable,
  from: { response: string; history: string; model: string; snapshots: number },
): string {
  const out = [
    '  lifts:',
    `    # Written by scripts/write-lifts.ts from the response artifact ${from.response} (repayrisk train`,
    `    # --history ${from.history} --response --model <the scoring model> --seed 1) and the scoring model`,
    `    # ${from.model}, over ${from.snapshots} logged snapshots: per segment, the mean of logit(fitted P(pay | t))`,
    '    # − logit(willingness), and likewise cover over ability, over accounts inside the treatment’s logged support.',
    '    # n = accounts; "pooled" = too few in the segment, mean over all segments; "as hold" = never inside the',
    '    # support, so no evidence it adds anything; never logged anywhere: a field visit as a call, an agency',
    '    # placement as legal (scripts/write-lifts.ts PROXIES).',
  ];
  for (const s of SEGMENTS) {
    out.push(`    ${s}:`);
    for (const t of TREATMENTS) {
      const l = table[s][t];
      const note =
        l.source === 'as_hold' ? 'as hold' : l.source === 'pooled' ? `pooled, n=${l.n}` : `n=${l.n}`;
      out.push(`      ${t}: { pay: ${r2(l.pay)}, cover: ${r2(l.cover)} } # ${note}`);
    }
  }
  return out.join('\n');
}
