import type { AccountRow, ContactRow } from '../../src/core/schema/tables.ts';

/** A delinquent card account in Chicago, reachable on every channel, with no flags; override what a test needs. */
export function makeAccount(overrides: Partial<AccountRow> = {}): AccountRow {
  return {
    account_id: 'A0001',
    customer_id: 'C0001',
    as_of_date: '2026-11-01',
    product: 'card',
    principal: null,
    credit_limit: 5000,
    apr: 0.24,
    term_months: null,
    months_on_book: 20,
    balance: 3000,
    amount_overdue: 600,
    installment_amount: 150,
    days_past_due: 95,
    age: 40,
    monthly_income: 3000,
    income_verified: true,
    employment_status: 'employed',
    region: 'IL',
    timezone: 'America/Chicago',
    preferred_channel: 'sms',
    phone_valid: true,
    email_valid: true,
    do_not_call: false,
    hardship_flag: false,
    dispute_open: false,
    bankruptcy_flag: false,
    deceased_flag: false,
    vulnerable_flag: false,
    cease_and_desist: false,
    complaint_open: false,
    legal_notice_date: '2026-10-01',
    ...overrides,
  };
}

/** A contact row for `account_id` A0001 (override any field). */
export function makeContact(overrides: Partial<ContactRow> & Pick<ContactRow, 'ts'>): ContactRow {
  return {
    account_id: 'A0001',
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'agent-1',
    ...overrides,
  };
}
