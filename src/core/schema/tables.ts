import type { z } from 'zod';
import { BILLED_DAYS_BEFORE_DUE } from '../features/payments.ts';
import { col, defineTable, nullable } from './columns.ts';
import {
  CONTACT_CHANNELS,
  CONTACT_OUTCOMES,
  EMPLOYMENT_STATUSES,
  PREFERRED_CHANNELS,
  PRODUCTS,
  TREATMENTS,
} from './enums.ts';
import type { TABLE_NAMES } from './table-names.ts';

/** Money is bounded so arithmetic on it stays finite (a trillion is beyond any consumer-credit amount). */
const money = (description: string) => col.number(description, { min: 0, max: 1e12, unit: 'currency' });
const flag = (description: string) => col.bool(description);
const prob = (description: string) => col.number(description, { min: 0, max: 1, unit: 'probability' });

/** accounts: one row per account per snapshot date — the customer archive as of that day. */
export const accounts = defineTable(
  'accounts',
  'One row per account per snapshot date: the account and customer as the archive knew them that day.',
  ['account_id', 'as_of_date'],
  {
    account_id: col.id('Account identifier; stable over time.'),
    customer_id: col.id('Customer identifier; one customer may hold several accounts.'),
    as_of_date: col.date('Snapshot date. Every other column is as known at the start of this day.'),
    product: col.enum(PRODUCTS, 'Product type.'),
    principal: nullable(money('Amount originally lent (loans, BNPL, auto); empty for cards.')),
    credit_limit: nullable(money('Credit limit (cards); empty for instalment products.')),
    apr: col.number('Annual percentage rate as a fraction (0.199 = 19.9%).', {
      min: 0,
      max: 2,
      unit: 'fraction/year',
    }),
    term_months: nullable(
      col.int('Contractual term of an instalment product; empty for cards.', { min: 1, unit: 'months' }),
    ),
    months_on_book: col.int('Whole months since the account was opened.', { min: 0, unit: 'months' }),
    balance: money('Outstanding balance, including unpaid interest and fees.'),
    amount_overdue: money('Sum of the unpaid parts of instalments already due.'),
    installment_amount: money('Amount due at the next due date (minimum payment for cards).'),
    days_past_due: col.int('Days since the oldest unpaid due date; 0 when nothing is overdue.', {
      min: 0,
      unit: 'days',
    }),
    age: col.int('Customer age in whole years.', { min: 18, max: 120, unit: 'years' }),
    monthly_income: nullable(
      money(
        'Monthly income the customer declared at application; empty when not declared (a value of its own).',
      ),
    ),
    income_verified: flag('True when the declared income was checked against documents.'),
    employment_status: col.enum(EMPLOYMENT_STATUSES, 'Employment status as last known.'),
    region: col.id(
      'Region (state) code of the customer address; the policy maps it to the rule pack of the account (docs/policy.md).',
    ),
    timezone: col.id('IANA time zone of the customer (e.g. America/Chicago); contact hours are local to it.'),
    preferred_channel: col.enum(PREFERRED_CHANNELS, 'Channel the customer asked to be contacted on.'),
    phone_valid: flag('True when the phone number on file is known to reach the customer.'),
    email_valid: flag('True when the email address on file is known to be deliverable.'),
    do_not_call: flag('Customer asked not to be called: no calls at all.'),
    hardship_flag: flag('Customer declared financial hardship (job loss, illness …).'),
    dispute_open: flag('Customer disputes the debt and the dispute is not resolved: no collection.'),
    bankruptcy_flag: flag('Customer is in bankruptcy or insolvency proceedings: no collection.'),
    deceased_flag: flag('Customer is reported deceased: no collection (estate handling).'),
    vulnerable_flag: flag(
      'Customer is known to be vulnerable (health, age, capacity): never legal action; under the uk-conc rule pack also a mental-capacity concern, so recovery is suspended.',
    ),
    cease_and_desist: flag('Customer sent a written cease-and-desist request: no collection contact.'),
    complaint_open: flag('Customer has an open complaint about the lender: no legal action.'),
    legal_notice_date: nullable(
      col.date('Date the last formal notice before legal action was sent; empty if none.'),
    ),
  },
);

/** installments: the repayment history, one row per scheduled instalment. */
export const installments = defineTable(
  'installments',
  'One row per scheduled instalment. `paid_date` is the day it was paid in full (empty while it is not), so an ' +
    'instalment counts as paid as of a date only when `paid_date` is before that date (point-in-time rule). A date ' +
    'that later payments could rewrite (e.g. "last payment") would let the future leak into past features; ' +
    '`first_paid_date` (the first payment, full or partial) never changes once set, so it is safe too. When a ' +
    '`payments` table is given, paid and part-paid status come from it instead (see payments).',
  ['account_id', 'installment_no'],
  {
    account_id: col.id('Account identifier.'),
    installment_no: col.int('Sequence number of the instalment on the account, from 1.', { min: 1 }),
    due_date: col.date('Date the instalment fell due.'),
    amount_due: money('Amount scheduled for this instalment.'),
    first_paid_date: nullable(
      col.date(
        'Date of the first payment towards the instalment, full or partial; empty if nothing was paid.',
      ),
    ),
    paid_date: nullable(
      col.date(
        'Date the instalment was paid in full; empty if it never was (partial payments show in first_paid_date and amount_paid).',
      ),
    ),
    amount_paid: money('Total paid towards this instalment by the end of the history (0 if nothing).'),
  },
);

/**
 * payments: every payment as it happened (optional). With it, each instalment's paid / part-paid status is
 * derived point-in-time (src/core/features/payments.ts), so no stored column can be rewritten by a later payment.
 */
export const payments = defineTable(
  'payments',
  'Optional, preferred: every payment as it was received, one row each. When present, the day each instalment ' +
    'was first paid and paid in full is derived from it, oldest due first: a payment fills the oldest unpaid ' +
    `instalment, then the next, among those billed by its day (due by then, or within ${BILLED_DAYS_BEFORE_DUE} days after it, paid ` +
    'early); money beyond them reduces the balance only and never pays a later bill ahead. So a later payment ' +
    'can never change what an earlier snapshot saw. The payments must reach back as far as the instalments: ' +
    'arrears older than the first instalment listed would be paid with money meant for later ones. `paid_date` and `first_paid_date` are then only cross-checked against it (rule ' +
    '`paid_date_disagrees_with_payments`). Several payments on one day are allowed.',
  [],
  {
    account_id: col.id('Account identifier.'),
    paid_at: col.date(
      'Day the payment was received (booking date; a payment counts for snapshots dated after it). Cut a ' +
        'timestamp to its UTC date, the rule contacts follow.',
    ),
    amount: money(
      'Amount received, > 0 (rule `payment_not_positive`); refunds and reversals are not payments.',
    ),
  },
);

/** contacts: every contact attempt ever made. */
export const contacts = defineTable(
  'contacts',
  'Every contact attempt ever made, one row each, whatever its outcome.',
  ['account_id', 'ts', 'channel'],
  {
    account_id: col.id('Account identifier.'),
    ts: col.timestamp('When the attempt was made (UTC instant, with offset).'),
    channel: col.enum(CONTACT_CHANNELS, 'How the customer was contacted.'),
    outcome: col.enum(
      CONTACT_OUTCOMES,
      'What came of the attempt. wrong_party: a third party answered (under packs that ban third-party contact, that number or address is not used again); opt_out: the customer asked not to be contacted on this channel (honoured from that instant).',
    ),
    promise_amount: nullable(money('Amount promised, when the outcome is promise_to_pay.')),
    promise_date: nullable(
      col.date('Date by which the payment was promised, when the outcome is promise_to_pay.'),
    ),
    agent_id: nullable(col.id('Agent who made a call or visit; empty for automated channels.')),
  },
);

/** treatments: what the historical (logging) policy did at each delinquent snapshot. */
export const treatments = defineTable(
  'treatments',
  'What the historical ("logging") policy did at each delinquent snapshot, and the probability it gave that choice.',
  ['account_id', 'as_of_date'],
  {
    account_id: col.id('Account identifier.'),
    as_of_date: col.date('Snapshot date the treatment was chosen on.'),
    treatment: col.enum(TREATMENTS, 'Treatment applied in the 30 days after the snapshot.'),
    propensity: col.number('Probability the logging policy gave the treatment it applied.', {
      min: 0,
      max: 1,
      unit: 'probability',
    }),
  },
);

/** outcomes: what happened after each delinquent snapshot. */
export const outcomes = defineTable(
  'outcomes',
  'What the customer paid after each delinquent snapshot: the labels of the two models (DESIGN §4).',
  ['account_id', 'as_of_date'],
  {
    account_id: col.id('Account identifier.'),
    as_of_date: col.date('Snapshot date.'),
    paid_30d: money(
      'Amount paid in the 30 days after the snapshot date (as_of_date < payment date <= +30 days).',
    ),
    paid_90d: nullable(
      money('Amount paid in the 90 days after the snapshot; empty when the history ends sooner.'),
    ),
  },
);

/** truth: the synthetic world's true probabilities; only the generator writes it. */
export const truth = defineTable(
  'truth',
  'Synthetic worlds only: for each delinquent snapshot, the true probabilities the outcome was drawn from, under ' +
    'the logging policy and under each treatment. Model-quality tests and backtests are checked against it.',
  ['account_id', 'as_of_date'],
  {
    account_id: col.id('Account identifier.'),
    as_of_date: col.date('Snapshot date.'),
    willingness_latent: col.number('Latent willingness of the customer that month (standard-normal scale).'),
    ability_latent: col.number(
      'Latent ability to pay that month (log of capacity over the instalment, centred).',
    ),
    p_pay: prob(
      'P(pays anything in 30 days) under the logging policy: the mix of p_pay_<t> by its propensities.',
    ),
    p_cover_given_pay: prob(
      'P(payments in 30 days cover the overdue amount | pays anything), logging policy.',
    ),
    expected_recovery: money('E[min(paid_30d, amount_overdue)] under the logging policy.'),
    p_pay_hold: prob('P(pay) if nothing is done.'),
    p_cover_hold: prob('P(cover | pay) if nothing is done.'),
    expected_recovery_hold: money('Expected recovery if nothing is done.'),
    p_pay_gentle_nudge: prob('P(pay) under a gentle nudge.'),
    p_cover_gentle_nudge: prob('P(cover | pay) under a gentle nudge.'),
    expected_recovery_gentle_nudge: money('Expected recovery under a gentle nudge.'),
    p_pay_plan_offer: prob('P(pay) under a plan offer.'),
    p_cover_plan_offer: prob('P(cover | pay) under a plan offer.'),
    expected_recovery_plan_offer: money('Expected recovery under a plan offer.'),
    p_pay_human_call: prob('P(pay) under a human call.'),
    p_cover_human_call: prob('P(cover | pay) under a human call.'),
    expected_recovery_human_call: money('Expected recovery under a human call.'),
    p_pay_legal: prob('P(pay) under legal action (only where the logging policy could take it).'),
    p_cover_legal: prob('P(cover | pay) under legal action.'),
    expected_recovery_legal: money('Expected recovery under legal action.'),
  },
);

export const TABLES = {
  accounts,
  installments,
  payments,
  contacts,
  treatments,
  outcomes,
  truth,
} as const satisfies Record<(typeof TABLE_NAMES)[number], unknown>;
export type TableName = keyof typeof TABLES;

export type AccountRow = z.infer<typeof accounts.schema>;
export type InstallmentRow = z.infer<typeof installments.schema>;
export type PaymentRow = z.infer<typeof payments.schema>;
export type ContactRow = z.infer<typeof contacts.schema>;
export type TreatmentRow = z.infer<typeof treatments.schema>;
export type OutcomeRow = z.infer<typeof outcomes.schema>;
export type TruthRow = z.infer<typeof truth.schema>;
