import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../src/core/random.ts';
import { type CellValue, type ColumnSpec, cellParser } from '../src/core/schema/columns.ts';
import {
  type AccountRule,
  archiveViolations,
  CONTRACT_RULES,
  type RowRule,
  rowViolations,
  type TypedRow,
} from '../src/core/schema/rules.ts';
import { TABLES, type TableName } from '../src/core/schema/tables.ts';
import { checkContractRules, ruleIssueText } from '../src/data/contract-rules.ts';
import type { HistoryFiles } from '../src/data/history.ts';
import { makeAccount } from './helpers/account.ts';
import { tmpDir } from './helpers/tmp.ts';

const ROW_RULES = CONTRACT_RULES.filter((r): r is RowRule => r.scope === 'row');
const ACCOUNT_RULES = CONTRACT_RULES.filter((r): r is AccountRule => r.scope === 'account');
/** More rows than any test file has: every violation is listed. */
const ALL = 100_000;

/** A table as CSV text: header in contract order, then one line per row of text cells ('' = empty). */
function csv(table: TableName, rows: readonly Record<string, string>[]): string {
  const cols = TABLES[table].columns.map((c) => c.name);
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => r[c] ?? '').join(','))].join('\n')}\n`;
}

/** A row typed as the reader types it (the contract's cell parsers). */
function typed(table: TableName, text: Record<string, string>): TypedRow {
  const out: Record<string, CellValue> = {};
  for (const c of TABLES[table].columns) {
    const r = cellParser(c)(text[c.name] ?? '');
    if (!r.ok) throw new Error(`test row: ${table}.${c.name} '${text[c.name]}' is not a valid cell`);
    out[c.name] = r.value;
  }
  return out;
}

const asText = (v: CellValue | undefined) => (v === null || v === undefined ? '' : String(v));

// Edge values per column kind: equal values, values half a cent apart, zero, empty where allowed.
const MONEY = ['0', '0.004', '0.005', '0.006', '0.01', '9.995', '10', '10.004', '10.006', '20'];
const DATES = ['2024-01-10', '2024-01-11', '2024-02-10', '2024-03-10'];
function edgeCell(rng: Rng, c: ColumnSpec): string {
  const pick = <T>(xs: readonly T[]) => xs[rng.int(0, xs.length - 1)]!;
  if (c.nullable && rng.bernoulli(0.3)) return '';
  const k = c.kind;
  switch (k.type) {
    case 'id':
    case 'text':
      return pick(['A1', 'A2']);
    case 'enum':
      return pick(k.values);
    case 'int':
      return String(
        pick(
          [0, 1, 12, 30, k.min ?? 0, (k.min ?? 0) + 1].filter(
            (v) => v >= (k.min ?? 0) && (k.max === undefined || v <= k.max),
          ),
        ),
      );
    case 'number':
      return k.max === 1
        ? pick(['0', '0.5', '1'])
        : pick(MONEY.filter((v) => Number(v) >= (k.min ?? 0) && Number(v) <= (k.max ?? 1e12)));
    case 'date':
      return pick(DATES);
    case 'timestamp':
      return '2024-01-10T10:00:00Z';
    case 'bool':
      return pick(['true', 'false']);
  }
}

const flagged = (issues: readonly { rule: string; row: number }[], rule: string) =>
  issues
    .filter((i) => i.rule === rule)
    .map((i) => i.row)
    .sort((a, b) => a - b);

describe('contract rules: the SQL and the JavaScript form agree', () => {
  const dir = tmpDir();

  it('on random rows of edge values, for every row rule', async () => {
    const rng = createRng(20261204, 1);
    const tables = [...new Set(ROW_RULES.map((r) => r.table))];
    const files: HistoryFiles = {};
    const rows = new Map<TableName, TypedRow[]>();
    for (const t of tables) {
      const text = Array.from({ length: 600 }, () =>
        Object.fromEntries(TABLES[t].columns.map((c) => [c.name, edgeCell(rng, c)])),
      );
      rows.set(
        t,
        text.map((r) => typed(t, r)),
      );
      files[t] = join(dir, `${t}.csv`);
      writeFileSync(files[t]!, csv(t, text));
    }
    const report = await checkContractRules(files, { maxPerRule: ALL, rules: ROW_RULES });
    expect(report.checked).toEqual(ROW_RULES.map((r) => r.id));
    for (const rule of ROW_RULES) {
      const js = rows.get(rule.table)!.flatMap((r, i) => (rule.js(r) ? [i + 1] : []));
      expect(flagged(report.issues, rule.id), rule.id).toEqual(js);
      // Both outcomes occur, so the agreement is not that of two constant predicates.
      expect(js.length, `${rule.id} never fires`).toBeGreaterThan(0);
      expect(js.length, `${rule.id} always fires`).toBeLessThan(600);
    }
  });

  it('on random accounts, for the rules over an account’s rows and its payments', async () => {
    const rng = createRng(20261204, 2);
    const ins: Record<string, string>[] = [];
    const pay: Record<string, string>[] = [];
    const days = ['2024-01-05', '2024-01-20', '2024-02-05', '2024-02-20', '2024-03-05', '2024-03-20'];
    const pick = <T>(xs: readonly T[]) => xs[rng.int(0, xs.length - 1)]!;
    for (let a = 0; a < 300; a++) {
      const id = `A${a}`;
      const n = rng.int(1, 5);
      for (let k = 0; k < n; k++) {
        const first = rng.bernoulli(0.7) ? pick(days) : '';
        const paid = first && rng.bernoulli(0.7) ? pick(days) : '';
        ins.push({
          account_id: id,
          // Instalment numbers out of file order and repeated due dates, to test the ordering.
          installment_no: String(n - k),
          due_date: `2024-0${1 + Math.floor(k / 2)}-01`,
          amount_due: pick(['10', '10.005', '20', '0']),
          first_paid_date: first,
          paid_date: paid,
          amount_paid: paid ? '10' : '0',
        });
      }
      for (let k = rng.int(0, 4); k > 0; k--)
        pay.push({ account_id: id, paid_at: pick(days), amount: pick(['5', '10', '10.005', '15']) });
    }
    const files: HistoryFiles = {
      installments: join(dir, 'acc-installments.csv'),
      payments: join(dir, 'acc-payments.csv'),
    };
    writeFileSync(files.installments!, csv('installments', ins));
    writeFileSync(files.payments!, csv('payments', pay));
    const report = await checkContractRules(files, { maxPerRule: ALL, rules: ACCOUNT_RULES });
    const insTyped = ins.map((r) => typed('installments', r));
    const payTyped = pay.map((r) => typed('payments', r));
    for (const rule of ACCOUNT_RULES) {
      const js: number[] = [];
      const byAccount = new Map<string, number[]>();
      insTyped.forEach((r, i) => {
        const k = r.account_id as string;
        byAccount.set(k, [...(byAccount.get(k) ?? []), i]);
      });
      for (const [id, idx] of byAccount) {
        const rows = idx.map((i) => insTyped[i]!);
        const payments = payTyped.filter((p) => p.account_id === id);
        for (const j of rule.js(rows, { payments })) js.push(idx[j]! + 1);
      }
      js.sort((a, b) => a - b);
      expect(flagged(report.issues, rule.id), rule.id).toEqual(js);
      expect(js.length, `${rule.id} never fires`).toBeGreaterThan(10);
      expect(js.length, `${rule.id} always fires`).toBeLessThan(ins.length);
    }
  });
});

/** Valid rows, one per table, that break no rule. */
const account = Object.fromEntries(Object.entries(makeAccount()).map(([k, v]) => [k, asText(v)]));
const BASE: Partial<Record<TableName, Record<string, string>>> = {
  accounts: account,
  installments: {
    account_id: 'A0001',
    installment_no: '1',
    due_date: '2024-01-20',
    amount_due: '100',
    first_paid_date: '2024-01-10',
    paid_date: '2024-01-25',
    amount_paid: '100',
  },
  payments: { account_id: 'A0001', paid_at: '2024-01-10', amount: '40' },
  treatments: { account_id: 'A0001', as_of_date: '2024-02-01', treatment: 'human_call', propensity: '0.4' },
  outcomes: { account_id: 'A0001', as_of_date: '2024-02-01', paid_30d: '50', paid_90d: '80' },
  contacts: {
    account_id: 'A0001',
    ts: '2024-01-15T15:00:00Z',
    channel: 'call',
    outcome: 'promise_to_pay',
    promise_amount: '50',
    promise_date: '2024-01-30',
    agent_id: 'AG1',
  },
};

const loan = { product: 'personal_loan', principal: '5000', credit_limit: '', term_months: '24' };

/** For each row rule: the cells that make the base row break it. */
const BREAK: Record<string, Record<string, string>> = {
  dpd_without_overdue: { days_past_due: '12', amount_overdue: '0' },
  overdue_without_dpd: { days_past_due: '0', amount_overdue: '150' },
  overdue_with_zero_balance: { balance: '0', amount_overdue: '150' },
  overdue_above_balance: { balance: '100', amount_overdue: '150' },
  card_with_principal: { principal: '2000' },
  card_with_term: { term_months: '12' },
  instalment_product_with_credit_limit: { ...loan, credit_limit: '3000' },
  card_without_credit_limit: { credit_limit: '' },
  instalment_product_without_principal: { ...loan, principal: '' },
  instalment_product_without_term: { ...loan, term_months: '' },
  paid_date_but_short: { amount_paid: '60' },
  paid_in_full_without_paid_date: { paid_date: '' },
  first_paid_after_paid_date: { first_paid_date: '2024-02-03' },
  paid_date_without_first_paid_date: { first_paid_date: '' },
  amount_paid_without_first_paid_date: { first_paid_date: '', paid_date: '', amount_paid: '30' },
  first_paid_date_without_amount: { paid_date: '', amount_paid: '0' },
  payment_not_positive: { amount: '0' },
  propensity_zero: { propensity: '0' },
  paid_90d_below_paid_30d: { paid_90d: '20' },
  promise_fields_without_promise: { outcome: 'right_party', promise_date: '' },
  promise_without_date: { promise_date: '' },
};

describe('contract rules: each one is caught in a real file', () => {
  const dir = tmpDir();

  it('has a breaking row for every row rule (this suite covers them all)', () => {
    expect(Object.keys(BREAK).sort()).toEqual(ROW_RULES.map((r) => r.id).sort());
  });

  for (const rule of ROW_RULES) {
    it(`${rule.id} (${rule.severity}): flags the breaking row with file, row, line and cells`, async () => {
      const base = BASE[rule.table]!;
      const broken = { ...base, ...BREAK[rule.id] };
      const path = join(dir, `${rule.id}.csv`);
      // The breaking row is data row 2 (line 3 after the header), between two valid rows.
      writeFileSync(path, csv(rule.table, [base, broken, base]));
      // Row rules only: the three rows are copies of one instalment, which the account rules would rightly flag.
      const report = await checkContractRules({ [rule.table]: path }, { rules: ROW_RULES });
      const mine = report.issues.filter((i) => i.rule === rule.id);
      expect(mine).toHaveLength(1);
      const issue = mine[0]!;
      expect(issue).toMatchObject({ file: `${rule.id}.csv`, row: 2, line: 3, severity: rule.severity });
      for (const c of rule.columns) expect(issue.cells[c], c).toBe(broken[c] === '' ? 'empty' : broken[c]);
      expect(ruleIssueText(issue)).toContain(
        `${rule.id}.csv: row 2 (line 3): rule '${rule.id}' (${rule.severity})`,
      );
      // Only the rule under test fires, and the API's JS form flags the same row.
      expect(report.issues.map((i) => i.rule)).toEqual([rule.id]);
      expect(rowViolations(rule.table, typed(rule.table, broken)).map((r) => r.id)).toEqual([rule.id]);
      expect(rowViolations(rule.table, typed(rule.table, base))).toEqual([]);
    });
  }
});

/** data-samples/installments.csv with every paid_date replaced by the account's last payment date. */
function plantLastPaymentDates(text: string): string {
  const lines = text.trimEnd().split('\n');
  const cols = lines[0]!.split(',');
  const [acc, first, paid] = ['account_id', 'first_paid_date', 'paid_date'].map((c) => cols.indexOf(c));
  const rows = lines.slice(1).map((l) => l.split(','));
  const last = new Map<string, string>();
  for (const r of rows)
    for (const d of [r[first!]!, r[paid!]!]) if (d && d > (last.get(r[acc!]!) ?? '')) last.set(r[acc!]!, d);
  for (const r of rows) if (r[paid!]) r[paid!] = last.get(r[acc!]!)!;
  return `${[lines[0], ...rows.map((r) => r.join(','))].join('\n')}\n`;
}

const LEAK = 'paid_date_looks_like_last_payment';

describe('the last-payment-date leak warning', () => {
  const dir = tmpDir();

  it('never fires on the generated sample, and fires on most paid instalments once paid_date is the last payment', async () => {
    const clean = await checkContractRules({ installments: 'data-samples/installments.csv' });
    expect(clean.counts[LEAK]).toBe(0);
    const text = readFileSync('data-samples/installments.csv', 'utf8');
    const planted = join(dir, 'installments.csv');
    writeFileSync(planted, plantLastPaymentDates(text));
    const report = await checkContractRules({ installments: planted });
    const paidRows = text.split('\n').filter((l) => /^[^,]+,\d+,[^,]+,[^,]+,[^,]*,\d{4}-/.test(l)).length;
    expect(paidRows).toBeGreaterThan(30_000);
    expect(report.counts[LEAK]! / paidRows).toBeGreaterThan(0.8);
    // A warning: the planted history breaks no error rule.
    expect(report.issues.every((i) => i.severity === 'warning')).toBe(true);
  });

  it('flags an instalment paid in full after a later one was already being paid (worked by hand)', () => {
    const rule = CONTRACT_RULES.find((r): r is AccountRule => r.id === LEAK)!;
    const i = (no: number, due: string, first: string | null, paid: string | null): TypedRow => ({
      account_id: 'A',
      installment_no: no,
      due_date: due,
      amount_due: 10,
      first_paid_date: first,
      paid_date: paid,
      amount_paid: paid ? 10 : 0,
    });
    // Truthful: the first is paid in full (late) on the day the second gets its first money.
    expect(
      rule.js([i(1, '2024-01-20', '2024-01-25', '2024-03-01'), i(2, '2024-02-20', '2024-03-01', null)], {}),
    ).toEqual([]);
    // Leaked: the first shows the day of the account's last payment, after the second was being paid.
    expect(
      rule.js(
        [i(1, '2024-01-20', '2024-01-25', '2024-05-01'), i(2, '2024-02-20', '2024-03-01', '2024-05-01')],
        {},
      ),
    ).toEqual([0]);
  });
});

describe('paid_date against a payments table', () => {
  const dir = tmpDir();
  it('warns when a paid_date has no payment that day or too little paid by then, and not when they agree', async () => {
    const ins = (no: number, due: string, first: string, paid: string) => ({
      account_id: 'A1',
      installment_no: String(no),
      due_date: due,
      amount_due: '100',
      first_paid_date: first,
      paid_date: paid,
      amount_paid: '100',
    });
    const files: HistoryFiles = {
      installments: join(dir, 'installments.csv'),
      payments: join(dir, 'payments.csv'),
    };
    writeFileSync(
      files.installments!,
      csv('installments', [
        ins(1, '2024-01-20', '2024-01-18', '2024-01-18'), // one payment of 100 that day: agrees
        ins(2, '2024-02-20', '2024-02-10', '2024-02-25'), // 60 then 40: agrees
        ins(3, '2024-03-20', '2024-03-19', '2024-03-19'), // only 50 paid that day: 250 by then < 300 due
        ins(4, '2024-04-20', '2024-04-21', '2024-04-22'), // no payment on either day
      ]),
    );
    writeFileSync(
      files.payments!,
      csv('payments', [
        { account_id: 'A1', paid_at: '2024-01-18', amount: '100' },
        { account_id: 'A1', paid_at: '2024-02-10', amount: '60' },
        { account_id: 'A1', paid_at: '2024-02-25', amount: '40' },
        { account_id: 'A1', paid_at: '2024-03-19', amount: '50' },
      ]),
    );
    const report = await checkContractRules(files);
    const issues = report.issues.filter((i) => i.rule === 'paid_date_disagrees_with_payments');
    expect(issues.map((i) => [i.row, i.line, i.severity])).toEqual([
      [3, 4, 'warning'],
      [4, 5, 'warning'],
    ]);
  });
});

describe('row numbers in reports', () => {
  const dir = tmpDir();
  it('name the data row and CSV line deep in a large file, and the row alone in Parquet', async () => {
    const lines = readFileSync('data-samples/installments.csv', 'utf8').trimEnd().split('\n');
    const target = 30_000; // data row; its line is 30,001
    const cells = lines[target]!.split(',');
    expect(cells[5]).not.toBe(''); // a paid instalment
    cells[6] = String(Number(cells[3]) - 1); // amount_paid one unit short of amount_due
    lines[target] = cells.join(',');
    const path = join(dir, 'installments.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const report = await checkContractRules({ installments: path });
    const short = report.issues.filter((i) => i.rule === 'paid_date_but_short');
    expect(short.map((i) => [i.row, i.line])).toEqual([[target, target + 1]]);
    const { withDuckDB, sqlString } = await import('../src/data/duckdb.ts');
    const pq = join(dir, 'pq', 'installments.parquet');
    mkdirSync(join(dir, 'pq'));
    await withDuckDB((c) =>
      c.run(
        `COPY (SELECT * FROM read_csv(${sqlString(path)}, all_varchar = true)) TO ${sqlString(pq)} (FORMAT parquet)`,
      ),
    );
    const fromParquet = await checkContractRules({ installments: pq });
    const pqShort = fromParquet.issues.filter((i) => i.rule === 'paid_date_but_short');
    expect(pqShort.map((i) => [i.file, i.row, i.line])).toEqual([
      ['installments.parquet', target, undefined],
    ]);
  });
});

/** Runs the CLI as a user would. */
function repayrisk(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/repayrisk.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('repayrisk validate with contract rules', () => {
  const dir = tmpDir();
  const history = (name: string, tables: Partial<Record<TableName, Record<string, string>[]>>) => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const [t, rows] of Object.entries(tables))
      writeFileSync(join(d, `${t}.csv`), csv(t as TableName, rows));
    return d;
  };

  it('exits 2 naming file, row, line, rule, cells, expected and got when a rule of severity error is broken', () => {
    const d = history('errors', {
      accounts: [BASE.accounts!],
      treatments: [BASE.treatments!, { ...BASE.treatments!, propensity: '0' }],
    });
    const v = repayrisk('validate', '--history', d);
    expect(v.code, v.err).toBe(2);
    expect(v.out).toMatch(/^ok {2}treatments +2 rows/m); // every cell is valid
    expect(v.err).toContain(
      "repayrisk: treatments.csv: row 2 (line 3): rule 'propensity_zero' (error): the logging policy gave the " +
        'treatment it applied a probability of 0 (inverse-propensity weights divide by it); expected propensity > 0, ' +
        'got treatment=human_call, propensity=0',
    );
  });

  it('exits 0 and prints the warnings when only warnings are found', () => {
    const d = history('warnings', {
      accounts: [{ ...BASE.accounts!, credit_limit: '' }],
    });
    const v = repayrisk('validate', '--history', d);
    expect(v.code, v.err).toBe(0);
    expect(v.err).toContain(
      "warning: accounts.csv: row 1 (line 2): rule 'card_without_credit_limit' (warning)",
    );
    expect(v.err).toMatch(/contract rules: \d+ checked, 0 row\(s\) with errors, 1 with warnings/);
  });

  it('checks the rules of one file given with --file and --table', () => {
    const d = history('one', { outcomes: [{ ...BASE.outcomes!, paid_90d: '10' }] });
    const v = repayrisk('validate', '--file', join(d, 'outcomes.csv'), '--table', 'outcomes');
    expect(v.code).toBe(2);
    expect(v.err).toContain("outcomes.csv: row 1 (line 2): rule 'paid_90d_below_paid_30d' (error)");
  });
});

describe('archiveViolations (the rules on an API archive)', () => {
  it('names each broken rule by the path of its row, payments rules only when payments are given', () => {
    const account = typed('accounts', { ...BASE.accounts!, days_past_due: '5', amount_overdue: '0' });
    const good = typed('installments', BASE.installments!);
    const short = typed('installments', {
      ...BASE.installments!,
      installment_no: '2',
      due_date: '2024-02-20',
      first_paid_date: '2024-02-10',
      paid_date: '2024-02-15',
      amount_paid: '50',
    });
    const got = archiveViolations({ account, installments: [good, short] });
    expect(got.map((v) => [v.path, v.rule, v.severity])).toEqual([
      ['account', 'dpd_without_overdue', 'error'],
      ['installments.1', 'paid_date_but_short', 'error'],
    ]);
    const withPayments = archiveViolations({ account, installments: [good], payments: [] });
    expect(withPayments.map((v) => [v.path, v.rule])).toEqual([
      ['account', 'dpd_without_overdue'],
      ['installments.0', 'paid_date_disagrees_with_payments'],
    ]);
  });

  it('with errorsOnly, gives exactly the violations of severity error, in the same order', () => {
    const account = typed('accounts', { ...BASE.accounts!, days_past_due: '5', amount_overdue: '0' });
    const good = typed('installments', BASE.installments!);
    // A warning on the account and a warning over the instalments (a paid_date after a later one's first payment).
    const overdue = typed('accounts', {
      ...BASE.accounts!,
      balance: '10',
      amount_overdue: '20',
      days_past_due: '3',
    });
    const late = typed('installments', {
      ...BASE.installments!,
      installment_no: '2',
      due_date: '2024-03-20',
    });
    const early = typed('installments', { ...BASE.installments!, paid_date: '2024-04-01' });
    for (const archive of [
      { account, installments: [good], payments: [] },
      { account: overdue, installments: [early, late] },
      { account, installments: [early, late], contacts: [] },
    ]) {
      const all = archiveViolations(archive);
      expect(all.some((v) => v.severity === 'warning')).toBe(true);
      expect(archiveViolations(archive, true)).toEqual(all.filter((v) => v.severity === 'error'));
    }
  });
});
