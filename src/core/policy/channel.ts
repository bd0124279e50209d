import type { PreferredChannel, Treatment } from '../schema/enums.ts';
import type { Constraints, GuardrailHit } from './guardrails.ts';
import type { PolicyChannel, Rules } from './schema.ts';

type Contactable = Exclude<Treatment, 'hold'>;

const orderCache = new WeakMap<Rules, Record<Contactable, readonly PolicyChannel[]>>();

/** A treatment's channels, cheapest per effective contact (cost / reach) first; ties keep the policy's order. */
export function channelsByCost(t: Contactable, rules: Rules): readonly PolicyChannel[] {
  let cached = orderCache.get(rules);
  if (!cached) {
    const sort = (cs: readonly PolicyChannel[]) =>
      cs
        .map((c, i) => ({ c, i, k: rules.channels[c].cost / rules.channels[c].reach }))
        .sort((a, b) => a.k - b.k || a.i - b.i)
        .map((x) => x.c);
    cached = Object.fromEntries(
      (Object.keys(rules.treatments) as Contactable[]).map((t) => [t, sort(rules.treatments[t].channels)]),
    ) as unknown as Record<Contactable, readonly PolicyChannel[]>;
    orderCache.set(rules, cached);
  }
  return cached[t];
}

/** The channel picked for a treatment, and the guardrails that ruled out the channels tried before it. */
export interface ChannelChoice {
  /** null when every channel of the treatment is blocked. */
  channel: PolicyChannel | null;
  /** True when the customer's preferred channel was used. */
  preferred: boolean;
  skipped: GuardrailHit[];
}

/**
 * The customer's preferred channel when the treatment can use it and no guardrail blocks it; otherwise the
 * cheapest effective lawful channel of the treatment.
 */
export function chooseChannel(
  t: Contactable,
  preferred: PreferredChannel,
  rules: Rules,
  c: Constraints,
): ChannelChoice {
  const skipped: GuardrailHit[] = [];
  const order = channelsByCost(t, rules);
  if (order.includes(preferred)) {
    const blocks = c.channel[preferred];
    if (!blocks) return { channel: preferred, preferred: true, skipped };
    skipped.push(...blocks);
  }
  for (const ch of order) {
    if (ch === preferred) continue;
    const blocks = c.channel[ch];
    if (!blocks) return { channel: ch, preferred: false, skipped };
    skipped.push(...blocks);
  }
  return { channel: null, preferred: false, skipped };
}
