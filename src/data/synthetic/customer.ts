import type { Rng } from '../../core/random.ts';
import type { EmploymentStatus, PreferredChannel, Product } from '../../core/schema/enums.ts';
import { KNOBS } from './knobs.ts';

/** Regions of the synthetic book with their IANA zones and weights (US-like, several DST rules). */
export const REGIONS: readonly { region: string; tz: string; weight: number }[] = [
  { region: 'NY', tz: 'America/New_York', weight: 0.2 },
  { region: 'FL', tz: 'America/New_York', weight: 0.12 },
  { region: 'TX', tz: 'America/Chicago', weight: 0.15 },
  { region: 'IL', tz: 'America/Chicago', weight: 0.1 },
  { region: 'CO', tz: 'America/Denver', weight: 0.06 },
  { region: 'AZ', tz: 'America/Phoenix', weight: 0.05 },
  { region: 'CA', tz: 'America/Los_Angeles', weight: 0.25 },
  { region: 'AK', tz: 'America/Anchorage', weight: 0.02 },
  { region: 'HI', tz: 'Pacific/Honolulu', weight: 0.05 },
];
const REGION_WEIGHTS = REGIONS.map((r) => r.weight);

const MEDIAN_INCOME: Record<EmploymentStatus, number> = {
  employed: 3800,
  self_employed: 4200,
  unemployed: 1300,
  retired: 2300,
  student: 1400,
};

const HIGH_COST_REGIONS = new Set(['NY', 'CA', 'HI', 'AK']);

/** Share of income that goes on living costs: higher in expensive regions, lower for older customers. */
function livingShare(region: string, age: number): number {
  return (HIGH_COST_REGIONS.has(region) ? 0.62 : 0.52) - (age >= 60 ? 0.05 : 0);
}

/** The customer behind an account: traits fixed at birth of the record, plus latents that move month by month. */
export interface Customer {
  index: number;
  customerId: string;
  birthAge: number;
  region: string;
  tz: string;
  preferredChannel: PreferredChannel;
  phoneValid: boolean;
  emailValid: boolean;
  doNotCall: boolean;
  vulnerable: boolean;
  /** Usual monthly income when in work (currency). */
  usualIncome: number;
  /** Status held when in work; `unemployed` is entered and left through shocks. */
  usualStatus: EmploymentStatus;
  status: EmploymentStatus;
  /** Declared income at application and whether it was verified (refreshed when a new account opens). */
  declaredIncome: number | null;
  incomeVerified: boolean;
  /** Living costs and other debt service, monthly (currency). */
  livingCost: number;
  otherDebt: number;
  /** Willingness trait and its drift. */
  trait: number;
  drift: number;
  /** Months of an unobserved expense shock still to run, and its monthly size (currency). */
  shockMonths: number;
  shockSize: number;
  /** Reported deceased (absorbing). */
  deceased: boolean;
}

export function pad7(n: number): string {
  return String(n).padStart(7, '0');
}

/** Draws a new customer. `index` is 0-based; ids are 1-based and zero-padded. */
export function drawCustomer(rng: Rng, index: number): Customer {
  const birthAge = Math.min(88, Math.max(19, Math.round(44 + 14 * rng.normal())));
  let usualStatus: EmploymentStatus;
  if (birthAge >= 67) usualStatus = rng.bernoulli(0.8) ? 'retired' : 'employed';
  else if (birthAge < 25 && rng.bernoulli(0.3)) usualStatus = 'student';
  else usualStatus = rng.bernoulli(0.86) ? 'employed' : 'self_employed';
  const usualIncome = Math.round(MEDIAN_INCOME[usualStatus] * Math.exp(0.45 * rng.normal()));
  const status: EmploymentStatus =
    (usualStatus === 'employed' || usualStatus === 'self_employed') && rng.bernoulli(0.04)
      ? 'unemployed'
      : usualStatus;
  const r = REGIONS[rng.categorical(REGION_WEIGHTS)]!;
  const channels: PreferredChannel[] = ['sms', 'email', 'app', 'call', 'letter'];
  const preferredChannel = channels[rng.categorical([0.34, 0.28, 0.18, 0.12, 0.08])]!;
  const c: Customer = {
    index,
    customerId: `C${pad7(index + 1)}`,
    birthAge,
    region: r.region,
    tz: r.tz,
    preferredChannel,
    phoneValid: rng.bernoulli(0.9),
    emailValid: rng.bernoulli(0.85),
    doNotCall: rng.bernoulli(0.02),
    vulnerable: rng.bernoulli(birthAge >= 75 ? 0.14 : 0.04),
    usualIncome,
    usualStatus,
    status,
    declaredIncome: null,
    incomeVerified: false,
    livingCost: Math.round(usualIncome * (livingShare(r.region, birthAge) + 0.01 * rng.normal())),
    otherDebt: Math.round(usualIncome * 0.02 * rng.next()),
    trait: rng.normal(),
    drift: 0,
    shockMonths: 0,
    shockSize: 0,
    deceased: false,
  };
  return c;
}

/** Income the customer has this month (currency). */
export function currentIncome(c: Customer): number {
  return c.status === 'unemployed' && c.usualStatus !== 'unemployed'
    ? c.usualIncome * KNOBS.unemployedIncomeFactor
    : c.usualIncome;
}

/** Declares income on a new application: verified income is close to the truth, unverified is inflated. */
export function declareIncome(rng: Rng, c: Customer, product: Product): void {
  const mayOmit = product === 'card' || product === 'bnpl';
  c.incomeVerified = rng.bernoulli(product === 'auto' || product === 'personal_loan' ? 0.6 : 0.3);
  if (mayOmit && !c.incomeVerified && rng.bernoulli(0.06)) {
    c.declaredIncome = null;
    return;
  }
  const noise = c.incomeVerified ? 0.01 * rng.normal() : 0.08 + 0.04 * rng.normal();
  c.declaredIncome = Math.round(currentIncome(c) * Math.exp(noise));
}

/** Moves the customer's latents on by one month: job loss / re-employment, expense shocks, willingness drift. */
export function stepCustomer(rng: Rng, c: Customer): void {
  if (c.status === 'unemployed') {
    if (c.usualStatus !== 'unemployed' && rng.bernoulli(KNOBS.reemploymentHazard)) c.status = c.usualStatus;
  } else if (c.status === 'employed' || c.status === 'self_employed') {
    const h = KNOBS.jobLossHazard * (c.status === 'self_employed' ? 1.5 : 1);
    if (rng.bernoulli(h)) c.status = 'unemployed';
  }
  if (c.shockMonths > 0) c.shockMonths--;
  else if (rng.bernoulli(KNOBS.expenseShockHazard)) {
    c.shockMonths = rng.int(1, 3);
    c.shockSize = c.usualIncome * (0.1 + 0.3 * rng.next());
  }
  c.drift = KNOBS.willingnessDriftRho * c.drift + KNOBS.willingnessDriftSd * rng.normal();
}

/** Latent willingness this month. */
export function willingness(c: Customer): number {
  return c.trait + c.drift;
}

/**
 * Latent ability this month: log of the money left after living costs, other debt and shocks, over the amount
 * this account needs (overdue plus the instalment falling due), centred so a comfortable payer is near +1.
 */
export function ability(c: Customer, neededCents: number): number {
  const slack = currentIncome(c) - c.livingCost - c.otherDebt - (c.shockMonths > 0 ? c.shockSize : 0);
  const needed = Math.max(neededCents / 100, 10);
  const ratio = Math.max(slack, 25) / needed;
  return Math.max(-3, Math.min(4, Math.log(ratio))) - 1.2;
}
