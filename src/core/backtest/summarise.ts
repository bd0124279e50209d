import { SEGMENTS } from '../policy/schema.ts';
import { createRng } from '../random.ts';
import { TREATMENTS, type Treatment } from '../schema/enums.ts';
import { BUCKETS } from './buckets.ts';
import type { PolicyReplay } from './replay.ts';
import { stageTransitions } from './stages.ts';
import type { Tape } from './tape.ts';
import {
  ESTIMATORS,
  type Estimate,
  type Estimator,
  type GroupFigures,
  type PolicyBacktest,
  type PolicyDifference,
} from './types.ts';

/** The per-snapshot series behind each figure, by estimator. */
function series(t: Tape): Record<'recovery' | 'cure', Record<Estimator, Float64Array>> {
  return {
    recovery: { simulation: t.sim, ipw: t.ipw, doubly_robust: t.dr },
    cure: { simulation: t.simCure, ipw: t.ipwCure, doubly_robust: t.drCure },
  };
}

/** Mean of the finite entries of `v` among `rows` (all when undefined); null when there are none. */
function mean(v: Float64Array, n: number, rows?: readonly number[]): number | null {
  let s = 0;
  let k = 0;
  const m = rows ? rows.length : n;
  for (let j = 0; j < m; j++) {
    const x = v[rows ? rows[j]! : j]!;
    if (Number.isFinite(x)) {
      s += x;
      k++;
    }
  }
  return k ? s / k : null;
}

function figures(t: Tape, key: string, rows?: readonly number[]): GroupFigures {
  const n = rows ? rows.length : t.n;
  const mix = Object.fromEntries(TREATMENTS.map((x) => [x, 0])) as Record<Treatment, number>;
  let cost = 0;
  for (let j = 0; j < n; j++) {
    const i = rows ? rows[j]! : j;
    mix[TREATMENTS[t.treatment[i]!]!]++;
    cost += t.cost[i]!;
  }
  for (const x of TREATMENTS) mix[x] = n ? mix[x] / n : 0;
  const s = series(t);
  const by = (which: 'recovery' | 'cure') =>
    Object.fromEntries(ESTIMATORS.map((e) => [e, mean(s[which][e], t.n, rows)])) as Record<
      Estimator,
      number | null
    >;
  const recovery = by('recovery');
  const meanCost = n ? cost / n : 0;
  const net = Object.fromEntries(
    ESTIMATORS.map((e) => [e, recovery[e] === null ? null : recovery[e]! - meanCost]),
  ) as Record<Estimator, number | null>;
  return { key, snapshots: n, treatment_mix: mix, recovery, cost: meanCost, net, cure_rate: by('cure') };
}

function groups(t: Tape, codes: ArrayLike<number>, names: readonly string[]): GroupFigures[] {
  const rows: number[][] = names.map(() => []);
  for (let i = 0; i < t.n; i++) rows[codes[i]!]!.push(i);
  return names.map((name, k) => figures(t, name, rows[k]!)).filter((g) => g.snapshots > 0);
}

/**
 * Bootstrap means (95% percentile intervals) of every series of one or two tapes over the same snapshots,
 * resampled together so a difference is paired. Returns, per tape, intervals of recovery, net and cure by
 * estimator, and the paired difference (second − first) when two tapes are given.
 */
export function bootstrap(
  tapes: readonly Tape[],
  samples: number,
  seed: number,
): {
  intervals: Record<'recovery' | 'net' | 'cure_rate', Record<Estimator, Estimate | null>>[];
  difference: PolicyDifference | null;
} {
  const n = tapes[0]?.n ?? 0;
  const rng = createRng(seed, 7);
  // stats[tape][series][estimator] -> sample means
  const keys = ['recovery', 'cure'] as const;
  const draws = tapes.map(() =>
    Object.fromEntries(keys.map((k) => [k, ESTIMATORS.map(() => new Float64Array(samples))])),
  ) as Record<(typeof keys)[number], Float64Array[]>[];
  const costDraws = tapes.map(() => new Float64Array(samples));
  const idx = new Uint32Array(n);
  for (let b = 0; b < samples; b++) {
    for (let j = 0; j < n; j++) idx[j] = Math.floor(rng.next() * n);
    tapes.forEach((t, ti) => {
      const s = series(t);
      let c = 0;
      for (let j = 0; j < n; j++) c += t.cost[idx[j]!]!;
      costDraws[ti]![b] = n ? c / n : 0;
      for (const k of keys)
        ESTIMATORS.forEach((e, ei) => {
          const v = s[k][e];
          let sum = 0;
          let cnt = 0;
          for (let j = 0; j < n; j++) {
            const x = v[idx[j]!]!;
            if (Number.isFinite(x)) {
              sum += x;
              cnt++;
            }
          }
          draws[ti]![k][ei]![b] = cnt ? sum / cnt : Number.NaN;
        });
    });
  }
  const interval = (values: Float64Array, point: number | null): Estimate | null => {
    if (point === null) return null;
    const v = Array.from(values)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    if (v.length === 0) return null;
    const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
    return { value: point, low: at(0.025), high: at(0.975) };
  };
  const point = (t: Tape) => figures(t, 'all');
  const intervals = tapes.map((t, ti) => {
    const p = point(t);
    const d = draws[ti]!;
    const out = { recovery: {}, net: {}, cure_rate: {} } as Record<
      'recovery' | 'net' | 'cure_rate',
      Record<Estimator, Estimate | null>
    >;
    ESTIMATORS.forEach((e, ei) => {
      out.recovery[e] = interval(d.recovery[ei]!, p.recovery[e]);
      out.cure_rate[e] = interval(d.cure[ei]!, p.cure_rate[e]);
      const net = d.recovery[ei]!.map((r, b) => r - costDraws[ti]![b]!);
      out.net[e] = interval(net, p.net[e]);
    });
    return out;
  });
  let difference: PolicyDifference | null = null;
  if (tapes.length === 2) {
    const [a, b] = [point(tapes[0]!), point(tapes[1]!)];
    const diff = (x: number | null, y: number | null) => (x === null || y === null ? null : y - x);
    difference = { recovery: {}, net: {}, cure_rate: {} } as PolicyDifference;
    ESTIMATORS.forEach((e, ei) => {
      const dr = draws[1]!.recovery[ei]!.map((v, k) => v - draws[0]!.recovery[ei]![k]!);
      const dc = draws[1]!.cure[ei]!.map((v, k) => v - draws[0]!.cure[ei]![k]!);
      const dn = dr.map((v, k) => v - (costDraws[1]![k]! - costDraws[0]![k]!));
      difference!.recovery[e] = interval(dr, diff(a.recovery[e], b.recovery[e]));
      difference!.cure_rate[e] = interval(dc, diff(a.cure_rate[e], b.cure_rate[e]));
      difference!.net[e] = interval(dn, diff(a.net[e], b.net[e]));
    });
  }
  return { intervals, difference };
}

/** Effective sample size of the IPW weights (Kish) and overlap warnings. */
function overlap(t: Tape): PolicyBacktest['overlap'] {
  let sw = 0;
  let sw2 = 0;
  let logged = 0;
  const chosen = new Map<string, { n: number; matched: number }>();
  for (let i = 0; i < t.n; i++) {
    const w = t.weight[i]!;
    if (!Number.isFinite(w)) continue;
    logged++;
    sw += w;
    sw2 += w * w;
    const key = `${SEGMENTS[t.segment[i]!]}|${TREATMENTS[t.treatment[i]!]}`;
    const c = chosen.get(key) ?? { n: 0, matched: 0 };
    c.n++;
    if (w > 0) c.matched++;
    chosen.set(key, c);
  }
  const ess = sw2 > 0 ? (sw * sw) / sw2 : 0;
  const warnings: string[] = [];
  const share = logged ? ess / logged : 0;
  if (logged && share < 0.05)
    warnings.push(
      `IPW effective sample size is ${Math.round(ess)} of ${logged} logged snapshots (${(100 * share).toFixed(1)}%): the policy differs a lot from the logging policy; off-policy figures are noisy`,
    );
  for (const [key, c] of chosen)
    if (c.n >= 20 && c.matched / c.n < 0.01) {
      const [seg, tr] = key.split('|');
      warnings.push(
        `poor overlap: the policy chooses ${tr} for ${c.n} snapshots in ${seg}, the logging policy did so for ${c.matched}; IPW and DR cannot see what ${tr} does there`,
      );
    }
  return { ess, ess_share: share, warnings };
}

/** Everything the report says about one replayed policy. */
export function summarisePolicy(
  replay: PolicyReplay,
  role: PolicyBacktest['role'],
  version: string,
  intervals: PolicyBacktest['intervals'],
): PolicyBacktest {
  const t = replay.tape;
  let contacts = 0;
  for (let i = 0; i < t.n; i++) if (TREATMENTS[t.treatment[i]!] !== 'hold') contacts++;
  const cells = new Map<number, { n: number; mix: number[] }>();
  for (let i = 0; i < t.n; i++) {
    const k = t.wBin[i]! * 10 + t.aBin[i]!;
    const c = cells.get(k) ?? { n: 0, mix: TREATMENTS.map(() => 0) };
    c.n++;
    c.mix[t.treatment[i]!]!++;
    cells.set(k, c);
  }
  const heatmap: PolicyBacktest['heatmap'] = [];
  for (const [k, c] of [...cells].sort((x, y) => x[0] - y[0])) {
    for (let ti = 0; ti < TREATMENTS.length; ti++)
      heatmap.push({
        willingness_bin: Math.floor(k / 10),
        ability_bin: k % 10,
        snapshots: c.n,
        treatment: TREATMENTS[ti]!,
        share: c.mix[ti]! / c.n,
      });
  }
  return {
    role,
    policy_version: version,
    snapshots: t.n,
    accounts: replay.accountCount,
    overall: figures(t, 'all'),
    intervals,
    contacts_per_account: replay.accountCount ? contacts / replay.accountCount : 0,
    guardrail_hits: Object.fromEntries([...replay.guardrailHits].sort((a, b) => b[1] - a[1])),
    by_segment: groups(t, t.segment, SEGMENTS),
    by_bucket: groups(t, t.bucket, BUCKETS),
    by_month: groups(t, t.month, replay.months),
    heatmap,
    overlap: overlap(t),
    stage_transitions: stageTransitions(t, replay.policy?.champion ?? replay.rules, replay.months),
  };
}
