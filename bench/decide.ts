// Bench: the strategy engine's `decide` over 1,000,000 accounts in one process.
//   npx tsx bench/decide.ts [--accounts 1000000] [--seed 7] [--policy policies/default.yaml]
// Accounts are drawn from a seeded mix (delinquency, flags, time zones, 0–6 recent contacts). Prints
// decisions/s for `decide` in matrix and expected-value mode, for a batch with a call capacity, and for a bare
// threshold lookup (segment -> treatment, no guardrails, no reasons) on the same inputs, with the ratios.
import { parseArgs } from 'node:util';
import { decideBatch } from '../src/core/policy/batch.ts';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicy } from '../src/core/policy/load.ts';
import type { Scores } from '../src/core/policy/types.ts';
import { createRng } from '../src/core/random.ts';
import { PREFERRED_CHANNELS } from '../src/core/schema/enums.ts';
import type { AccountRow, ContactRow } from '../src/core/schema/tables.ts';
import { readPolicyFile } from '../src/registry/policy-file.ts';
import { makeAccount, makeContact } from '../test/helpers/account.ts';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '7' },
    policy: { type: 'string' },
  },
});
const n = Number(values.accounts);
const rng = createRng(Number(values.seed));
const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Phoenix',
];
const OUTCOMES = ['no_answer', 'delivered', 'right_party', 'promise_to_pay', 'refused'] as const;
const CHANNELS = ['call', 'sms', 'email', 'app'] as const;
const now = Date.parse('2026-11-25T16:00:00Z');

// A pool of 100,000 distinct accounts and histories, reused with fresh scores so 1M decisions fit in memory.
const poolSize = Math.min(n, 100_000);
const accounts: AccountRow[] = [];
const histories: ContactRow[][] = [];
for (let i = 0; i < poolSize; i++) {
  const id = `A${i}`;
  const flag = (p: number) => rng.bernoulli(p);
  accounts.push(
    makeAccount({
      account_id: id,
      days_past_due: rng.int(0, 200),
      amount_overdue: Math.round(rng.next() * 3000),
      monthly_income: flag(0.2) ? null : 1500 + Math.round(rng.next() * 5000),
      timezone: ZONES[rng.int(0, ZONES.length - 1)]!,
      preferred_channel: PREFERRED_CHANNELS[rng.int(0, PREFERRED_CHANNELS.length - 1)]!,
      phone_valid: !flag(0.05),
      email_valid: !flag(0.1),
      do_not_call: flag(0.03),
      hardship_flag: flag(0.05),
      vulnerable_flag: flag(0.03),
      dispute_open: flag(0.01),
      deceased_flag: flag(0.002),
      legal_notice_date: flag(0.5) ? '2026-10-15' : null,
    }),
  );
  const contacts: ContactRow[] = [];
  for (let k = rng.int(0, 6); k > 0; k--)
    contacts.push(
      makeContact({
        account_id: id,
        ts: new Date(now - rng.next() * 14 * 86_400_000).toISOString(),
        channel: CHANNELS[rng.int(0, CHANNELS.length - 1)]!,
        outcome: OUTCOMES[rng.int(0, OUTCOMES.length - 1)]!,
      }),
    );
  histories.push(contacts);
}
const scores: Scores[] = Array.from({ length: n }, () => ({ willingness: rng.next(), ability: rng.next() }));

const matrix = await readPolicyFile(values.policy);
const valueMode = parsePolicy({ ...matrix.document, mode: 'expected_value' }, 'expected-value variant');

function time(label: string, f: () => number): number {
  f(); // warm-up on the same work, so the JIT has compiled the path being measured
  const t0 = performance.now();
  const check = f();
  const s = (performance.now() - t0) / 1000;
  const rate = n / s;
  console.log(
    `  ${label.padEnd(34)} ${s.toFixed(2).padStart(6)} s  ${Math.round(rate).toLocaleString('en-US').padStart(11)} decisions/s  (check ${check})`,
  );
  return rate;
}

console.log(
  `decide: ${n.toLocaleString('en-US')} accounts (pool ${poolSize.toLocaleString('en-US')}, seed ${values.seed}), node ${process.version}`,
);
const { willingness_high: wt, ability_high: at } = matrix.champion.segments;
const cells = matrix.champion.matrix;
const bare = time('bare threshold lookup', () => {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    const w = s.willingness >= wt;
    const a = s.ability >= at;
    const t = w
      ? a
        ? cells.high_willingness_high_ability
        : cells.high_willingness_low_ability
      : a
        ? cells.low_willingness_high_ability
        : cells.low_willingness_low_ability;
    if (t[0] === 'human_call') k++;
  }
  return k;
});
const run = (p: typeof matrix) => () => {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const j = i % poolSize;
    if (decide(accounts[j]!, scores[i]!, { now, contacts: histories[j]! }, p).treatment === 'human_call') k++;
  }
  return k;
};
const m = time('decide, matrix mode', run(matrix));
const v = time('decide, expected-value mode', run(valueMode));
const slots = Math.round(poolSize * 0.05);
const b = time(`decideBatch, ${slots.toLocaleString('en-US')} call slots`, () => {
  let k = 0;
  for (let start = 0; start < n; start += poolSize) {
    const items = accounts.map((account, j) => ({
      account,
      scores: scores[start + j]!,
      contacts: histories[j]!,
    }));
    for (const d of decideBatch(items, now, matrix, { kind: 'total', slots }))
      if (d.treatment === 'human_call') k++;
  }
  return k;
});
console.log(
  `ratios to the bare lookup: matrix ${(bare / m).toFixed(0)}x slower, expected value ${(bare / v).toFixed(0)}x, batch with capacity ${(bare / b).toFixed(0)}x`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
