import type { AccountRow } from '../schema/tables.ts';
import type { Rules } from './schema.ts';

/** The terms of a repayment plan offered to a customer (money in currency units). */
export interface PlanOffer {
  /** Monthly payment the plan asks for. */
  monthly_payment: number;
  /** Months the plan runs. */
  term_months: number;
  /** Months added to the remaining contractual term (0 when none). */
  term_extension_months: number;
  /** Fraction of the APR waived (0 = none, 1 = interest-free). */
  interest_relief: number;
  /** APR of the plan after relief, as a fraction. */
  apr: number;
  /** Amount planned: the balance (at least the overdue amount). */
  amount: number;
  /** What the customer is judged able to pay per month. */
  capacity: number;
  /** What the capacity was judged from. */
  capacity_basis: 'declared_income' | 'contractual_instalment';
  /** False when even the most generous terms the policy allows ask for more than the capacity. */
  affordable: boolean;
}

/** Level payment that repays `amount` in `n` months at monthly rate `i`. */
function levelPayment(amount: number, i: number, n: number): number {
  // expm1/log1p keep 1 − (1 + i)^−n exact for tiny rates, where the naive form is 1 − 1 = 0.
  return i === 0 ? amount / n : (amount * i) / -Math.expm1(-n * Math.log1p(i));
}

/** Fewest whole months in which payment `pay` repays `amount` at monthly rate `i`; Infinity if never. */
function monthsNeeded(amount: number, i: number, pay: number): number {
  if (i === 0) return Math.ceil(amount / pay - 1e-9);
  if (pay <= amount * i) return Number.POSITIVE_INFINITY;
  return Math.ceil(-Math.log1p(-(amount * i) / pay) / Math.log1p(i) - 1e-9);
}

/** Most whole months over which the level payment for `amount` at monthly rate `i` is still at least `pay`. */
function longestAtLeast(amount: number, i: number, pay: number): number {
  const months =
    i === 0 ? amount / pay : pay <= amount * i ? Infinity : -Math.log1p(-(amount * i) / pay) / Math.log1p(i);
  return Math.floor(months + 1e-9);
}

const cents = (x: number) => Math.round(x * 100) / 100;

/**
 * Sizes a plan to what the customer can pay. Capacity is a share of the declared monthly income that grows
 * with the ability score (without an income: a share of the contractual instalment), never below the policy's
 * minimum payment. The plan re-amortises the balance over the remaining term; when the capacity cannot carry
 * that, it first extends the term (cheapest for the lender), then adds interest relief step by step, within the
 * policy's bounds. If nothing fits, it offers the most generous terms allowed and says `affordable: false`.
 */
export function sizePlan(account: AccountRow, ability: number, plan: Rules['plan']): PlanOffer {
  const income = account.monthly_income;
  const byIncome = income !== null && income > 0;
  const share = byIncome ? plan.income_share : plan.instalment_share_without_income;
  const base = byIncome ? income : account.installment_amount;
  const capacity = Math.max(base * (share.min + (share.max - share.min) * ability), plan.min_payment);
  const amount = Math.max(account.balance, account.amount_overdue, 0.01);
  const remaining =
    account.term_months === null
      ? plan.card_term_months
      : Math.max(1, account.term_months - account.months_on_book);
  const longest = remaining + plan.max_term_extension_months;
  const steps = Math.floor(plan.max_interest_relief / plan.interest_relief_step + 1e-9);
  const offer = (relief: number, months: number, affordable: boolean): PlanOffer => {
    const apr = account.apr * (1 - relief);
    let term = months;
    // A long remaining term could ask for less than the minimum payment: shorten the plan instead.
    if (levelPayment(amount, apr / 12, term) < plan.min_payment)
      term = Math.max(1, Math.min(term, longestAtLeast(amount, apr / 12, plan.min_payment)));
    return {
      monthly_payment: cents(levelPayment(amount, apr / 12, term)),
      term_months: term,
      term_extension_months: Math.max(0, term - remaining),
      interest_relief: Math.round(relief * 1e6) / 1e6,
      apr: Math.round(apr * 1e6) / 1e6,
      amount: cents(amount),
      capacity: cents(capacity),
      capacity_basis: byIncome ? 'declared_income' : 'contractual_instalment',
      affordable,
    };
  };
  for (let k = 0; k <= steps; k++) {
    const relief = Math.min(k * plan.interest_relief_step, plan.max_interest_relief);
    const n = monthsNeeded(amount, (account.apr * (1 - relief)) / 12, capacity);
    if (n <= longest) return offer(relief, Math.max(n, remaining), true);
  }
  return offer(plan.max_interest_relief, longest, false);
}
