import { rulesSchema } from '../../src/core/policy/schema.ts';
import { createRng, type Rng } from '../../src/core/random.ts';
import type { AccountRow } from '../../src/core/schema/tables.ts';
import { makeAccount } from './account.ts';

/** One plan-sizing input: an account, its ability score and the policy's `plan` section as written (raw). */
export interface PlanCase {
  account: AccountRow;
  ability: number;
  /** The `plan` section of a policy file, before defaults (parse it with `planOf`). */
  plan: Record<string, unknown>;
}

const PRODUCTS = ['card', 'personal_loan', 'bnpl', 'auto'] as const;

/** A value from a few edges or, more often, uniform in [lo, hi] rounded to `digits`. */
function pick(rng: Rng, lo: number, hi: number, edges: readonly number[], digits = 2): number {
  if (edges.length && rng.bernoulli(0.15)) return edges[rng.int(0, edges.length - 1)]!;
  const f = 10 ** digits;
  return Math.round((lo + (hi - lo) * rng.next()) * f) / f;
}

/**
 * `n` random plan-sizing cases from `seed`: every product, terms that are nearly over or long gone, tiny and
 * large balances, an overdue above the balance, zero and near-zero APRs, no income, zero income, and plan sections
 * with bounds anywhere the policy schema allows. Region and timezone are left at the helper's (Chicago, us-reg-f).
 */
export function randomPlanCases(seed: number, n: number): PlanCase[] {
  const out: PlanCase[] = [];
  for (let k = 0; k < n; k++) {
    const rng = createRng(seed, k);
    const product = PRODUCTS[rng.int(0, 3)]!;
    const term = product === 'card' ? null : rng.int(1, 72);
    const balance = pick(rng, 0, rng.bernoulli(0.3) ? 60 : 25_000, [0, 0.01, 20, 39.99]);
    const income = rng.bernoulli(0.2) ? null : pick(rng, 100, 9000, [0, 1]);
    const account = makeAccount({
      account_id: `P${String(k).padStart(5, '0')}`,
      product,
      term_months: term,
      months_on_book: rng.int(0, (term ?? 60) + 6),
      balance,
      amount_overdue: rng.bernoulli(0.1) ? balance + pick(rng, 0, 500, []) : pick(rng, 0, balance, [0]),
      apr: pick(rng, 0, 0.8, [0, 1e-12, 0.24], 4),
      installment_amount: pick(rng, 1, 900, []),
      monthly_income: income,
    });
    const lo = pick(rng, 0, 0.3, [0], 3);
    const iLo = pick(rng, 0.05, 1.5, [], 2);
    const plan: Record<string, unknown> = {
      income_share: { min: lo, max: Math.min(1, lo + pick(rng, 0, 0.4, [0], 3)) },
      instalment_share_without_income: { min: iLo, max: Math.min(2, iLo + pick(rng, 0, 0.5, [0], 2)) },
      card_term_months: rng.int(1, 48),
      max_term_extension_months: rng.bernoulli(0.15) ? 0 : rng.int(0, 48),
      max_interest_relief: pick(rng, 0, 1, [0, 1], 2),
      interest_relief_step: pick(rng, 0.01, 1, [1, 0.1], 2),
      min_payment: pick(rng, 0, 60, [0, 20], 2),
    };
    out.push({ account, ability: pick(rng, 0, 1, [0, 1], 4), plan });
  }
  return out;
}

/** A raw `plan` section with the policy schema's defaults filled in, as `decide` gets it. */
export function planOf(raw: Record<string, unknown>) {
  return rulesSchema.shape.plan.parse(raw);
}
