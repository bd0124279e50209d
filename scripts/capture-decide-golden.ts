// Writes test/golden/decide-unstaged.json: the decisions of `randomDecideCases(SEED, N)` as `decide` of the commit
// it runs on makes them (captured before the staged flow, issue 16 item 2). test/policy-staging.test.ts holds
// today's decisions of policies without `staging` to these, field by field.
import { writeFileSync } from 'node:fs';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicy } from '../src/core/policy/load.ts';
import { randomDecideCases } from '../test/helpers/decide-cases.ts';

export const SEED = 20_261_216;
export const N = 1000;
const decisions = randomDecideCases(SEED, N).map((c) =>
  decide(
    c.account,
    c.scores,
    {
      now: c.now,
      contacts: c.contacts,
      payments: c.payments,
      callCapacityExhausted: c.callCapacityExhausted,
    },
    parsePolicy(c.policy, c.policy.version as string),
  ),
);
const text = `[\n${decisions.map((d) => JSON.stringify(d)).join(',\n')}\n]\n`;
writeFileSync('test/golden/decide-unstaged.json', text);
process.stdout.write(`wrote test/golden/decide-unstaged.json (${decisions.length} decisions)\n`);
