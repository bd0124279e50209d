// Bench: the score service's in-process floor, stage by stage — one account per call, one core, no HTTP, no
// ledger, the committed champion and the default policy, the example request (docs/examples/score-request.json).
//   npx tsx bench/hot-path.ts [--seconds 2] [--chain-only] [--batch 1000]
// Prints µs per account for each stage (JSON.parse of the body, request validation, admitArchive, score-and-decide)
// and accounts/s for the whole chain against the target (15,000 accounts/s per core); then the same work for one
// batch body of --batch accounts (0: none), per account, and what the machine's cores could do with it at most
// against the batch target (30,000 accounts/s), before any HTTP or ledger cost. Profile with
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/hot-path.ts --chain-only --seconds 5

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { widenYoungGeneration } from '../src/cli/heap-tuning.ts';
import { measureBatchFloor, measureFloor } from './hot-path-floor.ts';

// The young generation the `repayrisk` command runs with (src/cli/heap-tuning.ts).
widenYoungGeneration();
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    'chain-only': { type: 'boolean', default: false },
    batch: { type: 'string', default: '1000' },
  },
});
const floor = await measureFloor(Number(values.seconds), values['chain-only']);
console.log(`in-process floor (example account, one per call, one core), node ${process.version}`);
for (const s of floor.stages)
  console.log(`  ${s.label.padEnd(46)} ${s.us.toFixed(1).padStart(7)} µs/account`);
console.log(
  `  ${'whole chain (parse + validate + score-and-decide)'.padEnd(46)} ${floor.chainUs.toFixed(1).padStart(7)} µs/account  ` +
    `${Math.round(floor.perSecond).toLocaleString('en-US')} accounts/s = ${(floor.perSecond / floor.target).toFixed(2)} × the target ${floor.target.toLocaleString('en-US')}/s`,
);
if (!values['chain-only'] && Number(values.batch) > 0) {
  const b = await measureBatchFloor(Number(values.batch));
  console.log(
    `in-process batch of ${b.accounts.toLocaleString('en-US')} accounts (one body, no HTTP, no ledger sync or load)`,
  );
  for (const s of b.stages) console.log(`  ${s.label.padEnd(46)} ${s.us.toFixed(1).padStart(7)} µs/account`);
  const cores = availableParallelism();
  const bound = (cores * 1e6) / b.totalUs;
  console.log(
    `  ${'all of it'.padEnd(46)} ${b.totalUs.toFixed(1).padStart(7)} µs/account: ${cores} cores can do at most ` +
      `${Math.round(bound).toLocaleString('en-US')} accounts/s = ${(bound / 30_000).toFixed(2)} × the batch target 30,000/s`,
  );
}
