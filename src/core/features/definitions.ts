import type { FeatureInfo } from '../models/contract.ts';
import { EMPLOYMENT_STATUSES, PREFERRED_CHANNELS, PRODUCTS } from '../schema/enums.ts';

/** Which latent dimension a feature mostly speaks to (DESIGN §4). */
export type FeatureTag = 'ability' | 'willingness' | 'both';

export interface FeatureDef extends FeatureInfo {
  tag: FeatureTag;
  /** Unit and meaning, for docs/features.md. */
  description: string;
  /** Where it comes from: the snapshot, the instalment history, or the contact history. */
  source: 'snapshot' | 'installments' | 'contacts';
}

const num = (
  name: string,
  tag: FeatureTag,
  source: FeatureDef['source'],
  description: string,
): FeatureDef => ({
  name,
  type: 'numeric',
  tag,
  source,
  description,
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
  // Instalment history, rows due before the snapshot; a payment counts only if made before it.
  num(
    'paid_ratio_3m',
    'willingness',
    'installments',
    'Paid / due over instalments due in the last 3 months.',
  ),
  num(
    'paid_ratio_6m',
    'willingness',
    'installments',
    'Paid / due over instalments due in the last 6 months.',
  ),
  num('paid_ratio_12m', 'both', 'installments', 'Paid / due over instalments due in the last 12 months.'),
  num(
    'missed_12m',
    'both',
    'installments',
    'Instalments due in the last 12 months not fully paid by their next due date.',
  ),
  num(
    'worst_days_late_12m',
    'willingness',
    'installments',
    'Most days late of any instalment due in 12 months.',
  ),
  num(
    'on_time_share_12m',
    'willingness',
    'installments',
    'Share of instalments due in 12 months paid in full by the due date.',
  ),
  num(
    'mean_days_early_12m',
    'willingness',
    'installments',
    'Mean days before the due date of on-time payments in 12 months; missing if none.',
  ),
  num(
    'mean_days_late_12m',
    'willingness',
    'installments',
    'Mean days after the due date of late payments in full in 12 months; missing if none.',
  ),
  num(
    'mean_days_to_first_payment_12m',
    'willingness',
    'installments',
    'Mean days from due date to the first payment towards it (negative = early), instalments due in 12 months; missing if none.',
  ),
  num(
    'part_paid_12m',
    'both',
    'installments',
    'Instalments due in 12 months with a payment before the snapshot but not yet paid in full.',
  ),
  num(
    'months_since_last_payment',
    'both',
    'installments',
    'Months since the last payment seen (a first or a completing payment); missing if none.',
  ),
  num(
    'installments_seen_12m',
    'both',
    'installments',
    'Instalments due in the last 12 months (history depth).',
  ),
  // Contact history, attempts before the snapshot.
  num('contacts_90d', 'willingness', 'contacts', 'Contact attempts in the last 90 days.'),
  num('calls_90d', 'willingness', 'contacts', 'Call attempts in the last 90 days.'),
  num(
    'rpc_rate_90d',
    'willingness',
    'contacts',
    'Right-party contacts / call attempts in 90 days; missing without calls.',
  ),
  num('promises_12m', 'willingness', 'contacts', 'Promises to pay made in the last 12 months.'),
  num(
    'promises_kept_12m',
    'willingness',
    'contacts',
    'Promises whose date has passed with a payment by then (+3 days grace).',
  ),
  num(
    'promises_broken_12m',
    'willingness',
    'contacts',
    'Promises whose date has passed with no payment by then.',
  ),
  num('refusals_12m', 'willingness', 'contacts', 'Calls that ended in a refusal to pay, 12 months.'),
  num(
    'days_since_last_contact',
    'willingness',
    'contacts',
    'Days since the last contact attempt; missing if none.',
  ),
  num(
    'days_since_last_rpc',
    'willingness',
    'contacts',
    'Days since the last right-party conversation; missing if none.',
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
