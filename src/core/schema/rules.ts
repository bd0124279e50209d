import type { CellValue } from './columns.ts';
import type { TableName } from './tables.ts';

/*
 * Cross-column (and cross-row) rules of the data contract, in one list. Each rule is written twice, as SQL for
 * `repayrisk validate` (DuckDB runs it over whole files) and as JavaScript for rows already in memory (an API
 * archive); test/contract-rules.test.ts holds the two equal on edge-case and random rows. A rule names the cells
 * it reads so a report can show them.
 */

/** An error makes a history unusable (validate exits 2); a warning is printed and the history is still read. */
export type RuleSeverity = 'error' | 'warning';

/** A typed row as the reader yields it: dates as ISO strings, money as numbers, flags as booleans, empty = null. */
export type TypedRow = Readonly<Record<string, CellValue>>;

interface RuleBase {
  /** Stable name, shown in reports and docs (`paid_date_but_short`). */
  id: string;
  severity: RuleSeverity;
  /** The table whose rows the rule flags. */
  table: TableName;
  /** The cells a violation is shown with. */
  columns: readonly string[];
  /** What is wrong, in one sentence. */
  message: string;
  /** What a valid row satisfies, in words ("amount_paid >= amount_due when paid_date is set"). */
  expected: string;
}

/** A rule over the cells of one row. */
export interface RowRule extends RuleBase {
  scope: 'row';
  /** SQL over the table's typed columns (DATE, DOUBLE, BIGINT, BOOLEAN, VARCHAR), true for a violating row. */
  sql: string;
  /** The same predicate over a typed row. */
  js: (r: TypedRow) => boolean;
}

/**
 * A rule over all rows of an account (and possibly another table of it). The SQL is a query over views named
 * after the tables, each with a `__row` column (1-based data row in its file), returning the `__row` of every
 * violating row of `table`.
 */
export interface AccountRule extends RuleBase {
  scope: 'account';
  /** Tables the rule reads besides `table`; it is skipped when one of them is absent. */
  needs: readonly TableName[];
  sql: string;
  /**
   * The same rule over one account's rows: `rows` of `table` and, per table in `needs`, that table's rows.
   * Returns the indexes (into `rows`) of the violating rows, ascending.
   */
  js: (
    rows: readonly TypedRow[],
    other: Readonly<Partial<Record<TableName, readonly TypedRow[]>>>,
  ) => number[];
}

export type ContractRule = RowRule | AccountRule;

/** Half a cent: money compares equal within it (amounts are written with two decimals). */
const CENT = 0.005;

// JS helpers with SQL's NULL semantics: a comparison with an empty cell is not a violation.
const num = (v: CellValue | undefined) => (typeof v === 'number' ? v : null);
const str = (v: CellValue | undefined) => (typeof v === 'string' ? v : null);
const isNull = (v: CellValue | undefined) => v === null || v === undefined;

function row(
  id: string,
  severity: RuleSeverity,
  table: TableName,
  columns: readonly string[],
  message: string,
  expected: string,
  sql: string,
  js: (r: TypedRow) => boolean,
): RowRule {
  return { scope: 'row', id, severity, table, columns, message, expected, sql, js };
}

const ROW_RULES: readonly RowRule[] = [
  // accounts: delinquency fields agree with each other.
  row(
    'dpd_without_overdue',
    'error',
    'accounts',
    ['days_past_due', 'amount_overdue'],
    'days_past_due > 0 but nothing is overdue',
    'amount_overdue > 0 whenever days_past_due > 0',
    'days_past_due > 0 AND amount_overdue = 0',
    (r) => (num(r.days_past_due) ?? 0) > 0 && r.amount_overdue === 0,
  ),
  row(
    'overdue_without_dpd',
    'error',
    'accounts',
    ['days_past_due', 'amount_overdue'],
    'an amount is overdue but days_past_due is 0',
    'days_past_due >= 1 whenever amount_overdue > 0',
    'amount_overdue > 0 AND days_past_due = 0',
    (r) => (num(r.amount_overdue) ?? 0) > 0 && r.days_past_due === 0,
  ),
  row(
    'overdue_with_zero_balance',
    'error',
    'accounts',
    ['balance', 'amount_overdue'],
    'an amount is overdue on an account with no balance (the balance includes what is overdue)',
    'balance > 0 whenever amount_overdue > 0',
    'balance = 0 AND amount_overdue > 0',
    (r) => r.balance === 0 && (num(r.amount_overdue) ?? 0) > 0,
  ),
  row(
    'overdue_above_balance',
    'warning',
    'accounts',
    ['balance', 'amount_overdue'],
    'more is overdue than the whole balance',
    'amount_overdue <= balance',
    `balance > 0 AND amount_overdue > balance + ${CENT}`,
    (r) => {
      const b = num(r.balance);
      const o = num(r.amount_overdue);
      return b !== null && o !== null && b > 0 && o > b + CENT;
    },
  ),
  // accounts: what the column descriptions say is empty for one kind of product.
  row(
    'card_with_principal',
    'error',
    'accounts',
    ['product', 'principal'],
    'a card has a principal (it is empty for cards: they have a credit_limit)',
    'principal empty when product = card',
    `product = 'card' AND principal IS NOT NULL`,
    (r) => r.product === 'card' && !isNull(r.principal),
  ),
  row(
    'card_with_term',
    'error',
    'accounts',
    ['product', 'term_months'],
    'a card has a term_months (cards have no contractual term)',
    'term_months empty when product = card',
    `product = 'card' AND term_months IS NOT NULL`,
    (r) => r.product === 'card' && !isNull(r.term_months),
  ),
  row(
    'instalment_product_with_credit_limit',
    'error',
    'accounts',
    ['product', 'credit_limit'],
    'an instalment product (personal_loan, bnpl, auto) has a credit_limit (it is empty for them)',
    'credit_limit empty when product is not card',
    `product <> 'card' AND credit_limit IS NOT NULL`,
    (r) => typeof r.product === 'string' && r.product !== 'card' && !isNull(r.credit_limit),
  ),
  row(
    'card_without_credit_limit',
    'warning',
    'accounts',
    ['product', 'credit_limit'],
    'a card has no credit_limit: its utilisation feature is missing',
    'credit_limit set when product = card',
    `product = 'card' AND credit_limit IS NULL`,
    (r) => r.product === 'card' && isNull(r.credit_limit),
  ),
  row(
    'instalment_product_without_principal',
    'warning',
    'accounts',
    ['product', 'principal'],
    'an instalment product has no principal: its balance-to-principal feature is missing',
    'principal set when product is not card',
    `product <> 'card' AND principal IS NULL`,
    (r) => typeof r.product === 'string' && r.product !== 'card' && isNull(r.principal),
  ),
  row(
    'instalment_product_without_term',
    'warning',
    'accounts',
    ['product', 'term_months'],
    'an instalment product has no term_months',
    'term_months set when product is not card',
    `product <> 'card' AND term_months IS NULL`,
    (r) => typeof r.product === 'string' && r.product !== 'card' && isNull(r.term_months),
  ),
  // installments: the paid-status columns agree with each other.
  row(
    'paid_date_but_short',
    'error',
    'installments',
    ['paid_date', 'amount_paid', 'amount_due'],
    'paid_date (the day it was paid in full) is set but less than amount_due was paid',
    'amount_paid >= amount_due when paid_date is set',
    `paid_date IS NOT NULL AND amount_paid < amount_due - ${CENT}`,
    (r) => {
      const paid = num(r.amount_paid);
      const due = num(r.amount_due);
      return !isNull(r.paid_date) && paid !== null && due !== null && paid < due - CENT;
    },
  ),
  row(
    'paid_in_full_without_paid_date',
    'error',
    'installments',
    ['paid_date', 'amount_paid', 'amount_due'],
    'amount_paid covers amount_due but paid_date (the day it was paid in full) is empty',
    'paid_date set when amount_paid >= amount_due > 0',
    `paid_date IS NULL AND amount_due > 0 AND amount_paid >= amount_due - ${CENT}`,
    (r) => {
      const paid = num(r.amount_paid);
      const due = num(r.amount_due);
      return isNull(r.paid_date) && paid !== null && due !== null && due > 0 && paid >= due - CENT;
    },
  ),
  row(
    'first_paid_after_paid_date',
    'error',
    'installments',
    ['first_paid_date', 'paid_date'],
    'the first payment comes after the day the instalment was paid in full',
    'first_paid_date <= paid_date',
    'first_paid_date > paid_date',
    (r) => {
      const f = str(r.first_paid_date);
      const p = str(r.paid_date);
      return f !== null && p !== null && f > p;
    },
  ),
  row(
    'paid_date_without_first_paid_date',
    'error',
    'installments',
    ['first_paid_date', 'paid_date'],
    'paid in full but first_paid_date is empty (a full payment is a first payment too: use the same date)',
    'first_paid_date set when paid_date is set',
    'paid_date IS NOT NULL AND first_paid_date IS NULL',
    (r) => !isNull(r.paid_date) && isNull(r.first_paid_date),
  ),
  row(
    'amount_paid_without_first_paid_date',
    'error',
    'installments',
    ['first_paid_date', 'amount_paid'],
    'something was paid but first_paid_date is empty',
    'first_paid_date set when amount_paid > 0',
    'amount_paid > 0 AND first_paid_date IS NULL AND paid_date IS NULL',
    (r) => (num(r.amount_paid) ?? 0) > 0 && isNull(r.first_paid_date) && isNull(r.paid_date),
  ),
  row(
    'first_paid_date_without_amount',
    'error',
    'installments',
    ['first_paid_date', 'amount_paid'],
    'first_paid_date is set but amount_paid is 0',
    'amount_paid > 0 when first_paid_date is set',
    'first_paid_date IS NOT NULL AND amount_paid = 0 AND amount_due > 0',
    (r) => !isNull(r.first_paid_date) && r.amount_paid === 0 && (num(r.amount_due) ?? 0) > 0,
  ),
  row(
    'payment_not_positive',
    'error',
    'payments',
    ['amount'],
    'a payment of 0',
    'amount > 0',
    'amount <= 0',
    (r) => {
      const a = num(r.amount);
      return a !== null && a <= 0;
    },
  ),
  row(
    'propensity_zero',
    'error',
    'treatments',
    ['treatment', 'propensity'],
    'the logging policy gave the treatment it applied a probability of 0 (inverse-propensity weights divide by it)',
    'propensity > 0',
    'propensity <= 0',
    (r) => {
      const p = num(r.propensity);
      return p !== null && p <= 0;
    },
  ),
  row(
    'paid_90d_below_paid_30d',
    'error',
    'outcomes',
    ['paid_30d', 'paid_90d'],
    'less is paid in 90 days than in the first 30 of them',
    'paid_90d >= paid_30d (or paid_90d empty)',
    `paid_90d < paid_30d - ${CENT}`,
    (r) => {
      const a = num(r.paid_30d);
      const b = num(r.paid_90d);
      return a !== null && b !== null && b < a - CENT;
    },
  ),
  row(
    'promise_fields_without_promise',
    'warning',
    'contacts',
    ['outcome', 'promise_amount', 'promise_date'],
    'a promise amount or date on a contact whose outcome is not promise_to_pay',
    'promise_amount and promise_date empty unless outcome = promise_to_pay',
    `outcome <> 'promise_to_pay' AND (promise_amount IS NOT NULL OR promise_date IS NOT NULL)`,
    (r) =>
      typeof r.outcome === 'string' &&
      r.outcome !== 'promise_to_pay' &&
      (!isNull(r.promise_amount) || !isNull(r.promise_date)),
  ),
  row(
    'promise_without_date',
    'warning',
    'contacts',
    ['outcome', 'promise_date'],
    'a promise to pay without a promise_date: it can never be judged kept or broken',
    'promise_date set when outcome = promise_to_pay',
    `outcome = 'promise_to_pay' AND promise_date IS NULL`,
    (r) => r.outcome === 'promise_to_pay' && isNull(r.promise_date),
  ),
];

/** Sort key of an instalment within its account: due date, then instalment number. */
function byDue(rows: readonly TypedRow[]): number[] {
  const idx = rows.map((_, i) => i);
  return idx.sort((a, b) => {
    const da = String(rows[a]!.due_date);
    const db = String(rows[b]!.due_date);
    if (da !== db) return da < db ? -1 : 1;
    return (num(rows[a]!.installment_no) ?? 0) - (num(rows[b]!.installment_no) ?? 0) || a - b;
  });
}

const cents = (x: number) => Math.round(x * 100);

/**
 * The leak detector. With payments allocated oldest due first (what the contract's `paid_date` means), a later
 * instalment receives nothing until every earlier one is paid in full, so no later instalment can have a first
 * payment (or full payment) dated before an earlier instalment's `paid_date`. A `paid_date` that is really the
 * account's last payment date breaks this on almost every paid instalment; truthful dates never do.
 */
const LAST_PAYMENT_LEAK: AccountRule = {
  scope: 'account',
  id: 'paid_date_looks_like_last_payment',
  severity: 'warning',
  table: 'installments',
  needs: [],
  columns: ['due_date', 'paid_date'],
  message:
    'paid_date is after a later instalment was already being paid: it looks like a last-payment date, which a ' +
    'later payment rewrites, so features built on it would see the future',
  expected:
    'paid_date <= the first_paid_date (or paid_date) of every instalment due after it (money pays the oldest due first)',
  sql: `SELECT __row FROM (
  SELECT __row, paid_date, min(coalesce(first_paid_date, paid_date)) OVER (
    PARTITION BY account_id ORDER BY due_date, installment_no, __row
    ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS later_first
  FROM installments)
WHERE paid_date > later_first`,
  js: (rows) => {
    const order = byDue(rows);
    const out: number[] = [];
    let laterFirst: string | null = null;
    for (let k = order.length - 1; k >= 0; k--) {
      const r = rows[order[k]!]!;
      const paid = str(r.paid_date);
      if (paid !== null && laterFirst !== null && paid > laterFirst) out.push(order[k]!);
      const first = str(r.first_paid_date) ?? paid;
      if (first !== null && (laterFirst === null || first < laterFirst)) laterFirst = first;
    }
    return out.sort((a, b) => a - b);
  },
};

/**
 * With a payments table, each stored `paid_date` / `first_paid_date` must be a day the account paid, and by its
 * `paid_date` the account must have paid at least everything due up to and including the instalment (oldest due
 * first: earlier instalments are paid before it). Amounts compare in whole cents.
 */
const PAYMENTS_DISAGREE: AccountRule = {
  scope: 'account',
  id: 'paid_date_disagrees_with_payments',
  severity: 'warning',
  table: 'installments',
  needs: ['payments'],
  columns: ['first_paid_date', 'paid_date', 'amount_due'],
  message:
    'paid_date or first_paid_date does not match the payments table (no payment that day, or too little paid by ' +
    'then to cover this and every earlier instalment); features use the payments',
  expected:
    'a payment on paid_date and on first_paid_date, and payments up to paid_date >= amount_due summed over this and earlier instalments',
  sql: `WITH pd AS (
  SELECT account_id, paid_at AS day, sum(round(amount * 100)) AS c FROM payments GROUP BY account_id, paid_at),
pc AS (SELECT account_id, day, sum(c) OVER (PARTITION BY account_id ORDER BY day) AS cum FROM pd),
ic AS (
  SELECT __row, account_id, paid_date, first_paid_date, sum(round(amount_due * 100)) OVER (
    PARTITION BY account_id ORDER BY due_date, installment_no, __row ROWS UNBOUNDED PRECEDING) AS cdue
  FROM installments)
SELECT ic.__row FROM ic
  LEFT JOIN pc AS p ON p.account_id = ic.account_id AND p.day = ic.paid_date
  LEFT JOIN pc AS f ON f.account_id = ic.account_id AND f.day = ic.first_paid_date
WHERE (ic.paid_date IS NOT NULL AND (p.cum IS NULL OR p.cum < ic.cdue))
   OR (ic.first_paid_date IS NOT NULL AND f.cum IS NULL)`,
  js: (rows, other) => {
    const cum = new Map<string, number>();
    const pays = [...(other.payments ?? [])].sort((a, b) =>
      String(a.paid_at) < String(b.paid_at) ? -1 : String(a.paid_at) > String(b.paid_at) ? 1 : 0,
    );
    let total = 0;
    for (const p of pays) {
      total += cents(num(p.amount) ?? 0);
      cum.set(String(p.paid_at), total);
    }
    const out: number[] = [];
    let cdue = 0;
    for (const i of byDue(rows)) {
      const r = rows[i]!;
      cdue += cents(num(r.amount_due) ?? 0);
      const paid = str(r.paid_date);
      const first = str(r.first_paid_date);
      const byPaid = paid === null ? undefined : cum.get(paid);
      if ((paid !== null && (byPaid === undefined || byPaid < cdue)) || (first !== null && !cum.has(first)))
        out.push(i);
    }
    return out.sort((a, b) => a - b);
  },
};

/** Every cross-column rule of the data contract, in the order reports list them. */
export const CONTRACT_RULES: readonly ContractRule[] = [...ROW_RULES, LAST_PAYMENT_LEAK, PAYMENTS_DISAGREE];

/**
 * The violations of the row rules of `table` in one row: the rules it breaks (an API archive's instalments, say).
 */
export function rowViolations(table: TableName, r: TypedRow): RowRule[] {
  return (ROW_RULES_OF.get(table) ?? []).filter((rule) => rule.js(r));
}

/**
 * The row rules of each table, in list order (an API archive checks two dozen rows against its table's rules),
 * and those of severity error alone.
 */
const ROW_RULES_OF = rulesByTable(ROW_RULES);
const ERROR_ROW_RULES_OF = rulesByTable(ROW_RULES.filter((r) => r.severity === 'error'));

function rulesByTable(rules: readonly RowRule[]): ReadonlyMap<TableName, readonly RowRule[]> {
  const by = new Map<TableName, RowRule[]>();
  for (const rule of rules) by.set(rule.table, [...(by.get(rule.table) ?? []), rule]);
  return by;
}

/** One broken rule in an account's archive, located by its path (`installments.3`). */
export interface ArchiveViolation {
  /** `account`, or `<list>.<index>` into the archive's lists. */
  path: string;
  rule: string;
  severity: RuleSeverity;
  message: string;
  /** What a valid row satisfies, in words. */
  expected: string;
  /** The cells the rule reads (the fields to name in an error). */
  columns: readonly string[];
}

/**
 * Every contract rule an account's archive breaks (what `validate` would report for these rows): the row rules
 * on the account, each instalment, contact and payment, and the account rules over its instalments (with its
 * payments when given). Pure and synchronous, for the API to run on incoming accounts. With `errorsOnly`, only
 * the rules of severity error are run (what refuses an account; the API does not report warnings).
 */
export function archiveViolations(
  archive: {
    account: TypedRow;
    installments?: readonly TypedRow[];
    contacts?: readonly TypedRow[];
    payments?: readonly TypedRow[];
  },
  errorsOnly = false,
): ArchiveViolation[] {
  const rowRules = errorsOnly ? ERROR_ROW_RULES_OF : ROW_RULES_OF;
  const out: ArchiveViolation[] = [];
  const add = (path: string, r: ContractRule) =>
    out.push({
      path,
      rule: r.id,
      severity: r.severity,
      message: r.message,
      expected: r.expected,
      columns: r.columns,
    });
  for (const r of rowRules.get('accounts') ?? []) if (r.js(archive.account)) add('account', r);
  const lists = [
    ['installments', archive.installments],
    ['contacts', archive.contacts],
    ['payments', archive.payments],
  ] as const;
  for (const [table, rows] of lists) {
    const rules = rowRules.get(table) ?? [];
    if (rows)
      for (let i = 0; i < rows.length; i++)
        for (const r of rules) if (r.js(rows[i]!)) add(`${table}.${i}`, r);
  }
  const ins = archive.installments ?? [];
  for (const rule of CONTRACT_RULES) {
    if (rule.scope !== 'account' || rule.table !== 'installments') continue;
    if (errorsOnly && rule.severity !== 'error') continue;
    if (rule.needs.includes('payments') && archive.payments === undefined) continue;
    for (const i of rule.js(ins, { payments: archive.payments ?? [] })) add(`installments.${i}`, rule);
  }
  return out;
}
