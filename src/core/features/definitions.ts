import type { FeatureInfo } from '../models/contract.ts';
import { EMPLOYMENT_STATUSES, PREFERRED_CHANNELS, PRODUCTS } from '../schema/enums.ts';
import { type Lookback, largestLookback } from './lookback.ts';

/** Which latent dimension a feature mostly speaks to (DESIGN §4). */
export type FeatureTag = 'ability' | 'willingness' | 'both';

export interface FeatureDef extends FeatureInfo {
  tag: FeatureTag;
  /** Unit and meaning, for docs/features.md. */
  description: string;
  /** Where it comes from: the snapshot, the instalment history, or the contact history. */
  source: 'snapshot' | 'installments' | 'contacts';
  /**
   * How far back it reads (lookback.ts says how each window is counted); `{}` for the snapshot row alone. The
   * builder takes its windows from here, and the API's archive is the largest of them (ARCHIVE_LOOKBACK).
   */
  lookback: Lookback;
}

// Window lengths in days. A month of history is 30.4 days, so 3, 6 and 12 months are 91, 183 and 365 days.
const DAYS_90 = 90;
const MONTHS_3 = 91;
const MONTHS_6 = 183;
const MONTHS_12 = 365;
const ins = (days: number): Lookback => ({ installmentsDays: days });
const con = (days: number): Lookback => ({ contactsDays: days });
const NONE: Lookback = {};

const num = (
  name: string,
  tag: FeatureTag,
  source: FeatureDef['source'],
  description: string,
  lookback: Lookback = NONE,
): FeatureDef => ({
  name,
  type: 'numeric',
  tag,
  source,
  description,
  lookback,
});
const cat = (
  name: string,
  categories: readonly string[],
  tag: FeatureTag,
  description: string,
): FeatureDef => ({
  name,
  type: 'categorical',
  categories,
  tag,
  source: 'snapshot',
  description,
  lookback: NONE,
});

/**
 * The point-in-time features of a delinquent snapshot, in matrix column order. Missing values are NaN (e.g.
 * income not declared, no payment ever, no contact yet) and each model kind treats them as a value of their own.
 * Changing this list changes the feature schema recorded in every artifact, which strict loading then refuses.
 */
export const FEATURES: readonly FeatureDef[] = [
  // Snapshot: delinquency and exposure.
  num('days_past_due', 'both', 'snapshot', 'Days since the oldest unpaid due date.'),
  num('log_amount_overdue', 'ability', 'snapshot', 'ln(1 + amount overdue), currency.'),
  num(
    'overdue_to_installment',
    'ability',
    'snapshot',
    'Amount overdue / instalment amount (instalments behind).',
  ),
  num('log_balance', 'ability', 'snapshot', 'ln(1 + outstanding balance), currency.'),
  num(
    'balance_to_limit',
    'ability',
    'snapshot',
    'Balance / credit limit (cards); missing for instalment products.',
  ),
  num(
    'balance_to_principal',
    'ability',
    'snapshot',
    'Balance / original principal (loans); missing for cards.',
  ),
  num('apr', 'ability', 'snapshot', 'Annual percentage rate, fraction.'),
  num('months_on_book', 'willingness', 'snapshot', 'Months since the account opened.'),
  cat('product', PRODUCTS, 'both', 'Product type.'),
  // Snapshot: the customer.
  num('age', 'both', 'snapshot', 'Age in years.'),
  num('log_income', 'ability', 'snapshot', 'ln(1 + declared monthly income); missing when not declared.'),
  num('income_verified', 'ability', 'snapshot', '1 when the declared income was verified.'),
  num(
    'debt_service_to_income',
    'ability',
    'snapshot',
    '(Instalment + overdue) / monthly income; missing without income.',
  ),
  num(
    'log_debt_service_to_income',
    'ability',
    'snapshot',
    'ln((instalment + overdue) / monthly income); missing without income.',
  ),
  num('installment_to_income', 'ability', 'snapshot', 'Instalment / monthly income; missing without income.'),
  cat('employment_status', EMPLOYMENT_STATUSES, 'ability', 'Employment status as last known.'),
  cat('preferred_channel', PREFERRED_CHANNELS, 'willingness', 'Channel the customer asked for.'),
  num('phone_valid', 'willingness', 'snapshot', '1 when the phone number reaches the customer.'),
  num('email_valid', 'willingness', 'snapshot', '1 when the email address is deliverable.'),
  num('hardship_flag', 'ability', 'snapshot', '1 when the customer declared hardship.'),
  num('vulnerable_flag', 'both', 'snapshot', '1 when the customer is known to be vulnerable.'),
  num('dispute_open', 'willingness', 'snapshot', '1 while a dispute is open.'),
  num('suppressed', 'both', 'snapshot', '1 when deceased, bankrupt or cease-and-desist (collection stops).'),
  num('complaint_open', 'willingness', 'snapshot', '1 while a complaint is open.'),
  num(
    'days_since_legal_notice',
    'willingness',
    'snapshot',
    'Days since the formal pre-legal notice; missing if none.',
  ),
  // Instalment history: rows due in the window before the snapshot; a payment counts only if made before it.
  num(
    'paid_ratio_3m',
    'willingness',
    'installments',
    'Paid / due over instalments due in the last 3 months.',
    ins(MONTHS_3),
  ),
  num(
    'paid_ratio_6m',
    'willingness',
    'installments',
    'Paid / due over instalments due in the last 6 months.',
    ins(MONTHS_6),
  ),
  num(
    'paid_ratio_12m',
    'both',
    'installments',
    'Paid / due over instalments due in the last 12 months.',
    ins(MONTHS_12),
  ),
  num(
    'missed_12m',
    'both',
    'installments',
    'Instalments due in the last 12 months not fully paid by their next due date.',
    ins(MONTHS_12),
  ),
  num(
    'worst_days_late_12m',
    'willingness',
    'installments',
    'Most days late of any instalment due in 12 months.',
    ins(MONTHS_12),
  ),
  num(
    'on_time_share_12m',
    'willingness',
    'installments',
    'Share of instalments due in 12 months paid in full by the due date; missing if none was due.',
    ins(MONTHS_12),
  ),
  num(
    'mean_days_early_12m',
    'willingness',
    'installments',
    'Mean days before the due date of on-time payments in 12 months; missing if none.',
    ins(MONTHS_12),
  ),
  num(
    'mean_days_late_12m',
    'willingness',
    'installments',
    'Mean days after the due date of late payments in full in 12 months; missing if none.',
    ins(MONTHS_12),
  ),
  num(
    'mean_days_to_first_payment_12m',
    'willingness',
    'installments',
    'Mean days from due date to the first payment towards it (negative = early), instalments due in 12 months; missing if none.',
    ins(MONTHS_12),
  ),
  num(
    'part_paid_12m',
    'both',
    'installments',
    'Instalments due in 12 months with a payment before the snapshot but not yet paid in full.',
    ins(MONTHS_12),
  ),
  num(
    'months_since_last_payment_12m',
    'both',
    'installments',
    'Months since the last payment (a first or a completing payment) towards an instalment due in the last 12 months; missing if none.',
    ins(MONTHS_12),
  ),
  num(
    'installments_seen_12m',
    'both',
    'installments',
    'Instalments due in the last 12 months (history depth).',
    ins(MONTHS_12),
  ),
  // Contact history: attempts in the window before the snapshot's midnight (UTC).
  num('contacts_90d', 'willingness', 'contacts', 'Contact attempts in the last 90 days.', con(DAYS_90)),
  num('calls_90d', 'willingness', 'contacts', 'Call attempts in the last 90 days.', con(DAYS_90)),
  num(
    'rpc_rate_90d',
    'willingness',
    'contacts',
    'Right-party contacts / call attempts in 90 days; missing without calls.',
    con(DAYS_90),
  ),
  num(
    'promises_12m',
    'willingness',
    'contacts',
    'Promises to pay made in the last 12 months.',
    con(MONTHS_12),
  ),
  num(
    'promises_kept_12m',
    'willingness',
    'contacts',
    'Promises made in 12 months whose date has passed with a payment by then (+3 days grace), a payment towards an instalment due in 12 months.',
    { contactsDays: MONTHS_12, installmentsDays: MONTHS_12 },
  ),
  num(
    'promises_broken_12m',
    'willingness',
    'contacts',
    'Promises made in 12 months whose date (+3 days grace) has passed with no payment towards an instalment due in 12 months.',
    { contactsDays: MONTHS_12, installmentsDays: MONTHS_12 },
  ),
  num(
    'refusals_12m',
    'willingness',
    'contacts',
    'Contacts that ended in a refusal to pay, 12 months.',
    con(MONTHS_12),
  ),
  num(
    'days_since_last_contact_12m',
    'willingness',
    'contacts',
    'Days since the last contact attempt in the last 12 months; missing if none in 12 months.',
    con(MONTHS_12),
  ),
  num(
    'days_since_last_rpc_12m',
    'willingness',
    'contacts',
    'Days since the last right-party conversation in the last 12 months; missing if none in 12 months.',
    con(MONTHS_12),
  ),
];

/** Column index of each feature by name. */
export const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURES.map((f, i) => [f.name, i]));

/** The model-facing part of the definitions (name, type, categories), as recorded in an artifact. */
export function featureInfos(defs: readonly FeatureDef[] = FEATURES): FeatureInfo[] {
  return defs.map((d) => ({
    name: d.name,
    type: d.type,
    ...(d.categories ? { categories: [...d.categories] } : {}),
  }));
}

/**
 * The history the features read, per table: the largest declared lookback (days). The archive the score API
 * asks for, its OpenAPI description, docs/api.md and the ledger read window are all derived from it; an archive
 * cut to these windows gives the same features, bit for bit, as the whole history (test/feature-parity.test.ts).
 */
export const ARCHIVE_LOOKBACK: Readonly<Required<Lookback>> = Object.freeze(
  largestLookback(FEATURES.map((f) => f.lookback)),
);
