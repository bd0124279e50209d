import type { ContactChannel, Treatment } from '../schema/enums.ts';
import type { ContactRow } from '../schema/tables.ts';
import { instantMs } from '../time/instant.ts';
import type { Rules } from './schema.ts';

/**
 * The staged flow (DESIGN §6: reminder → call → field visit → agency or legal, docs/policy.md "The staged flow"):
 * a treatment of stage k is chosen only when stage k − 1 was tried lately or is ruled out today and was itself
 * reached. Contacts record channels, not treatments, so "tried" is read from the stage's `tried_by` channels.
 */

/** One stage as `decide` uses it. */
export interface Stage {
  /** 0-based position. */
  index: number;
  name: string;
  treatments: readonly Exclude<Treatment, 'hold'>[];
  /** Contact channels whose attempts show the stage was tried (never empty for a valid policy's earlier stages). */
  triedBy: readonly ContactChannel[];
}

const cache = new WeakMap<Rules, readonly Stage[] | null>();

/** The rule set's stages (null without `staging`), built once per rule set. */
export function stagesOf(rules: Rules): readonly Stage[] | null {
  let stages = cache.get(rules);
  if (stages === undefined) {
    stages = rules.staging ? buildStages(rules) : null;
    cache.set(rules, stages);
  }
  return stages;
}

function buildStages(rules: Rules): Stage[] {
  const named = new Set<ContactChannel>();
  return rules.staging!.stages.map((s, index) => {
    let triedBy: ContactChannel[];
    if (s.tried_by) triedBy = [...s.tried_by];
    else {
      // The channels of the stage's treatments that no earlier stage named: an SMS of a reminder must not
      // count as a tried plan offer sent by SMS. An agency's contacts are its own; they show no stage here.
      triedBy = [];
      for (const t of s.treatments)
        for (const ch of rules.treatments[t].channels)
          if (ch !== 'agency' && !named.has(ch) && !triedBy.includes(ch)) triedBy.push(ch);
    }
    for (const ch of triedBy) named.add(ch);
    return { index, name: s.name ?? s.treatments.join('+'), treatments: s.treatments, triedBy };
  });
}

/** The stage index of a treatment, or -1 when no stage holds it (hold, or a treatment left out). */
export function stageIndexOf(stages: readonly Stage[], t: Treatment): number {
  for (const s of stages) if ((s.treatments as readonly Treatment[]).includes(t)) return s.index;
  return -1;
}

/** Whether a stage may be used today, and the sentence that says why (for the reason codes). */
export interface StageReach {
  reached: boolean;
  why: string;
}

/**
 * Which stages are reached for an account at `now`. Stage 0 always is; stage k is when stage k − 1 was tried
 * (a contact on one of its `tried_by` channels in the last `tried_within_days` days, up to now) or when stage
 * k − 1 is ruled out today (`ruledOut` gives why, or null when some treatment of it is possible) and was itself
 * reached.
 */
export function stageReach(
  stages: readonly Stage[],
  contacts: readonly Pick<ContactRow, 'ts' | 'channel'>[],
  now: number,
  withinDays: number,
  ruledOut: (stage: Stage) => string | null,
): StageReach[] {
  const from = now - withinDays * 86_400_000;
  const out: StageReach[] = [{ reached: true, why: `${stages[0]!.name} is the first stage` }];
  for (let k = 1; k < stages.length; k++) {
    const prev = stages[k - 1]!;
    let last: Pick<ContactRow, 'ts' | 'channel'> | null = null;
    let lastMs = Number.NEGATIVE_INFINITY;
    for (const c of contacts) {
      const ts = instantMs(c.ts);
      if (ts > now || ts <= from || !prev.triedBy.includes(c.channel)) continue;
      if (ts > lastMs) {
        last = c;
        lastMs = ts;
      }
    }
    const label = `stage ${k} (${prev.name})`;
    if (last) {
      out.push({ reached: true, why: `${label} was tried: ${last.channel} at ${last.ts}` });
      continue;
    }
    const notTried = `${label} not tried within ${withinDays} days (no ${prev.triedBy.join('/') || 'qualifying'} contact)`;
    const before = out[k - 1]!;
    const blocked = ruledOut(prev);
    if (blocked === null) out.push({ reached: false, why: `${notTried} and not ruled out today` });
    else if (!before.reached)
      out.push({ reached: false, why: `${notTried}; ruled out today (${blocked}) but not itself reached` });
    else out.push({ reached: true, why: `${notTried} but ruled out today: ${blocked}` });
  }
  return out;
}
