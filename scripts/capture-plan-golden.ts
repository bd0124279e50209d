// Writes test/golden/plan-offers-us.json: the plan offers of `randomPlanCases(SEED, N)` as the sizing of the
// commit it runs on computes them (captured before forbearance, issue 16 item 5). test/plan-forbearance.test.ts
// holds today's sizing of accounts outside a forbearance pack to these, field by field.
import { writeFileSync } from 'node:fs';
import { sizePlan } from '../src/core/policy/plan-offer.ts';
import { planOf, randomPlanCases } from '../test/helpers/plan-cases.ts';

export const SEED = 20_261_204;
export const N = 600;
const offers = randomPlanCases(SEED, N).map((c) => sizePlan(c.account, c.ability, planOf(c.plan)));
const text = `[\n${offers.map((o) => JSON.stringify(o)).join(',\n')}\n]\n`;
writeFileSync('test/golden/plan-offers-us.json', text);
process.stdout.write(`wrote test/golden/plan-offers-us.json (${offers.length} offers)\n`);
