import type { Rules } from '../policy/schema.ts';
import { stagesOf } from '../policy/staging.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import type { Tape } from './tape.ts';
import type { StageTransitions } from './types.ts';

/**
 * The ladder of DESIGN §6 (reminder → call → field visit → agency or legal), by which a backtest reports the stage
 * transitions of a policy without `staging` of its own (and of the logged decisions, unless the champion stages).
 */
export const DEFAULT_LADDER: readonly { name: string; treatments: readonly Treatment[] }[] = [
  { name: 'reminder', treatments: ['gentle_nudge'] },
  { name: 'call', treatments: ['human_call', 'plan_offer'] },
  { name: 'visit', treatments: ['field_visit'] },
  { name: 'agency_or_legal', treatments: ['agency_placement', 'legal'] },
];

/**
 * Stage transitions of a replayed policy: per month, how many accounts' decisions moved from one stage to another
 * since their previous decision in a stage (a hold or a treatment in no stage leaves the account where it was).
 * Stages are those of `rules.staging`, else `DEFAULT_LADDER`. The tape must hold each account's snapshots in date
 * order (the replay adds them so).
 */
export function stageTransitions(tape: Tape, rules: Rules, months: readonly string[]): StageTransitions {
  const own = stagesOf(rules);
  const ladder = own ?? DEFAULT_LADDER;
  const stageOf = new Int8Array(TREATMENTS.length).fill(-1);
  ladder.forEach((s, k) => {
    for (const t of s.treatments) stageOf[TREATMENTS.indexOf(t)] = k;
  });
  const last = new Map<number, number>();
  const counts = new Map<string, number>();
  for (let i = 0; i < tape.n; i++) {
    const s = stageOf[tape.treatment[i]!]!;
    if (s < 0) continue;
    const acc = tape.account[i]!;
    const before = last.get(acc);
    last.set(acc, s);
    if (before === undefined || before === s) continue;
    const key = `${tape.month[i]}|${before}|${s}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const by_month = [...counts]
    .map(([key, accounts]) => {
      const [m, from, to] = key.split('|').map(Number) as [number, number, number];
      return { month: months[m]!, from, to, accounts };
    })
    .sort((a, b) => a.month.localeCompare(b.month) || a.from - b.from || a.to - b.to);
  const escalations = ladder.slice(1).map((_, k) => ({
    from: k,
    to: k + 1,
    accounts: by_month.filter((r) => r.from === k && r.to === k + 1).reduce((a, r) => a + r.accounts, 0),
  }));
  const skipped = by_month.filter((r) => r.to > r.from + 1).reduce((a, r) => a + r.accounts, 0);
  return {
    stages: ladder.map((s) => s.name),
    staged: own !== null,
    by_month,
    escalations,
    skipped,
  };
}
