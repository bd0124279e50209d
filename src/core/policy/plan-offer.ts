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
  /** The forbearance that replaced a plan the customer could not afford, else null. */
  forbearance: Forbearance | null;
  /** The offer refers the customer to free debt advice (every plan offer where forbearance applies). */
  debt_advice_referral: boolean;
}

/**
 * Forbearance terms (CONC 7.3.5G): offered instead of the policy's most generous plan when that asks for more than
 * the customer's capacity. The offer's `monthly_payment` is then asked for `term_months` months with interest and
 * charges frozen (`apr` 0, `interest_relief` 1); `capacity` is the judged capacity itself, not raised to the plan's
 * `min_payment`.
 */
export interface Forbearance {
  /** `token_payment`: a nominal payment (capacity at most the policy's token maximum); `interest_freeze`: a reduced
   * payment of the capacity. */
  kind: 'token_payment' | 'interest_freeze';
  /** True when the payments clear the amount within the term; false: the arrangement is reviewed when it ends. */
  clears_balance: boolean;
  /** Monthly payment of the most generous plan the policy allows, which the capacity could not carry. */
  plan_payment: number;
  /** What required it: the rule pack and clause (`uk-conc: CONC 7.3.5G`), or the policy (`accounts: all`). */
  source: string;
}

/** The offer rules of one account's rule pack and policy (packs/floors.ts `offerFloorsOf`). */
export interface OfferFloors {
  /** Forbearance instead of an unaffordable plan, and a debt-advice referral on every offer: the source; null = none. */
  forbearance: string | null;
  /** A plan never asks for the amount in fewer than `months` payments (no lump-sum demand); null = no floor. */
  minTerm: { months: number; source: string } | null;
}

/** No offer rules: the plan sizing of packs without forbearance (us-reg-f, cn-2025). */
export const NO_OFFER_FLOORS: OfferFloors = Object.freeze({ forbearance: null, minTerm: null });

/** A sized offer and which offer rules changed it (for the guardrails a decision names). */
export interface SizedOffer {
  offer: PlanOffer;
  /** The plan would have asked for the amount in fewer payments than `floors.minTerm` allows. */
  minTermRaised: boolean;
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
 * policy's bounds. If nothing fits, it offers the most generous terms allowed and says `affordable: false`, unless
 * forbearance applies (`floors`, see `sizeOffer`).
 */
export function sizePlan(
  account: AccountRow,
  ability: number,
  plan: Rules['plan'],
  floors: OfferFloors = NO_OFFER_FLOORS,
): PlanOffer {
  return sizeOffer(account, ability, plan, floors).offer;
}

/**
 * `sizePlan` with the offer rules of the account's pack: with `floors.minTerm` a plan asks for at least that many
 * payments (the least payment may then fall below `min_payment`: the law before the house rule). With
 * `floors.forbearance`, every offer refers to free debt advice and a plan the capacity cannot carry is replaced:
 * a judged capacity (before the `min_payment` floor) at most `forbearance.token_payment.max` gets a token payment
 * (the capacity, at least `token_payment.min`) for `token_payment.months`; a larger one a reduced payment of the
 * capacity for `interest_freeze.months`; interest frozen either way, and a shorter term when the payments clear the
 * amount sooner. Without floors the offer is the plan of `sizePlan` before forbearance, field for field.
 */
export function sizeOffer(
  account: AccountRow,
  ability: number,
  plan: Rules['plan'],
  floors: OfferFloors,
): SizedOffer {
  const income = account.monthly_income;
  const byIncome = income !== null && income > 0;
  const share = byIncome ? plan.income_share : plan.instalment_share_without_income;
  const base = byIncome ? income : account.installment_amount;
  const judged = base * (share.min + (share.max - share.min) * ability);
  const capacity = Math.max(judged, plan.min_payment);
  const amount = Math.max(account.balance, account.amount_overdue, 0.01);
  const remaining =
    account.term_months === null
      ? plan.card_term_months
      : Math.max(1, account.term_months - account.months_on_book);
  const minTerm = floors.minTerm?.months ?? 1;
  const longest = Math.max(remaining + plan.max_term_extension_months, minTerm);
  const steps = Math.floor(plan.max_interest_relief / plan.interest_relief_step + 1e-9);
  const basis = byIncome ? 'declared_income' : 'contractual_instalment';
  const referral = floors.forbearance !== null;
  let minTermRaised = false;
  const offer = (relief: number, months: number, affordable: boolean): PlanOffer => {
    const apr = account.apr * (1 - relief);
    let term = months;
    // A long remaining term could ask for less than the minimum payment: shorten the plan instead.
    if (levelPayment(amount, apr / 12, term) < plan.min_payment)
      term = Math.max(1, Math.min(term, longestAtLeast(amount, apr / 12, plan.min_payment)));
    if (term < minTerm) {
      term = minTerm;
      minTermRaised = true;
    }
    return {
      monthly_payment: cents(levelPayment(amount, apr / 12, term)),
      term_months: term,
      term_extension_months: Math.max(0, term - remaining),
      interest_relief: Math.round(relief * 1e6) / 1e6,
      apr: Math.round(apr * 1e6) / 1e6,
      amount: cents(amount),
      capacity: cents(capacity),
      capacity_basis: basis,
      affordable,
      forbearance: null,
      debt_advice_referral: referral,
    };
  };
  for (let k = 0; k <= steps; k++) {
    const relief = Math.min(k * plan.interest_relief_step, plan.max_interest_relief);
    const n = monthsNeeded(amount, (account.apr * (1 - relief)) / 12, capacity);
    if (n <= longest) return { offer: offer(relief, Math.max(n, remaining), true), minTermRaised };
  }
  const generous = offer(plan.max_interest_relief, longest, false);
  if (floors.forbearance === null) return { offer: generous, minTermRaised };

  // Forbearance: interest frozen, the payment the customer can make (a token when that is nominal), then review.
  minTermRaised = false;
  const f = plan.forbearance;
  const token = judged <= f.token_payment.max;
  const pay = token ? Math.max(judged, f.token_payment.min) : judged;
  const cap = token ? f.token_payment.months : f.interest_freeze.months;
  const clearing = Math.ceil(amount / pay - 1e-9);
  const clears = clearing <= cap;
  const term = clears ? Math.max(clearing, minTerm) : cap;
  if (clears && term > clearing) minTermRaised = true;
  const monthly = cents(clears ? amount / term : pay);
  return {
    offer: {
      monthly_payment: monthly,
      term_months: term,
      term_extension_months: 0,
      interest_relief: 1,
      apr: 0,
      amount: cents(amount),
      capacity: cents(judged),
      capacity_basis: basis,
      affordable: monthly <= cents(judged),
      forbearance: {
        kind: token ? 'token_payment' : 'interest_freeze',
        clears_balance: clears,
        plan_payment: generous.monthly_payment,
        source: floors.forbearance,
      },
      debt_advice_referral: true,
    },
    minTermRaised,
  };
}
