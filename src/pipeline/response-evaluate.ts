/**
 * Evaluation of treatment-response models against a synthetic world's truth (issue 13, DESIGN §6): on the held-out
 * months of a history, the learned expected-value policy, the matrix policy, the logging policy and an oracle (each
 * account's truly best lawful treatment) are replayed through the same `decide` and call capacity, and each is
 * valued by the truth and by the doubly robust estimator.
 */
import { PolicyReplay, type ReplayInput } from '../core/backtest/replay.ts';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { takeRows } from '../core/models/rows.ts';
import { segmentOf } from '../core/policy/decide.ts';
import { responseOf } from '../core/policy/expected-value.ts';
import { constraintsFor } from '../core/policy/guardrails.ts';
import type { Policy } from '../core/policy/load.ts';
import { floorsOf } from '../core/policy/packs/select.ts';
import type { Rules } from '../core/policy/schema.ts';
import type { Scores } from '../core/policy/types.ts';
import { TREATMENTS, type Treatment } from '../core/schema/enums.ts';
import { dayOf } from '../core/time/dates.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { type OverlapRow, RESPONSE_CELLS, responseCellOf } from '../core/uplift/overlap.ts';
import { drNet, type MeanInterval, meanInterval, shareOfOracleGain } from '../core/uplift/policy-value.ts';
import { spearman } from '../core/uplift/rank.ts';
import { predictResponses, type ResponseSet, responseScores } from '../core/uplift/response-set.ts';
import { readPolicyFile } from '../registry/policy-file.ts';
import { loadResponseArtifact } from '../registry/response-artifact.ts';
import { loadScoringModel } from '../service/live.ts';
import { readLoggedSnapshots } from './response-data.ts';

/** Response models not (yet) written as an artifact. */
export interface InMemoryResponse {
  set: ResponseSet;
  overlap: readonly OverlapRow[];
  /** First held-out snapshot date (ISO). */
  outOfTimeFrom: string;
}

export const EVALUATED_POLICIES = ['learned', 'matrix', 'logging', 'oracle'] as const;
export type EvaluatedPolicy = (typeof EVALUATED_POLICIES)[number];

export interface EvaluateResponseOptions {
  history: string;
  /** Scoring-model artifact folder (willingness and ability). */
  model: string;
  /** Response artifact folder, or fitted response models in memory with their overlap table and held-out start. */
  response: string | InMemoryResponse;
  /** Expected-value policy that reads the fitted responses; default policies/learned-ev.yaml. */
  learnedPolicy?: string;
  /** Matrix policy; default policies/default.yaml. */
  matrixPolicy?: string;
  /**
   * Human-call slots per snapshot date for every replayed policy; default the logging policy's mean number of
   * calls per held-out date (the same workforce the lender had).
   */
  callSlots?: number;
  /**
   * Least share of comparable accounts (same delinquency bucket, the treatment lawful for them) the logging policy
   * gave a treatment, in the training period, for its rank correlation to count there (0.05).
   */
  spearmanMinShare?: number;
  onProgress?: (message: string) => void;
}

/** One policy's figures over the held-out snapshots. Money per snapshot, currency units. */
export interface PolicyValue {
  /** True expected net recovery (truth's expected recovery of the chosen treatment − its cost). */
  trueNet: number;
  /** Doubly robust estimate of the same with its 95% interval. */
  dr: MeanInterval;
  treatmentMix: Record<Treatment, number>;
}

/** Rank correlation of predicted and true incremental P(pay) (treatment vs hold) for one treatment. */
export interface RankRow {
  treatment: Treatment;
  /**
   * Delinquency buckets where, in the training period, the logging policy gave the treatment to at least the min
   * share of comparable accounts (the bucket's snapshots the treatment was lawful for), and hold likewise.
   */
  cells: string[];
  /** Held-out snapshots of those buckets, the treatment lawful for them and inside both logged supports. */
  snapshots: number;
  spearman: number;
}

/** Per delinquency bucket, the share of comparable training-period snapshots the logging policy gave each treatment. */
interface ComparableRow {
  /** Snapshots of the bucket the treatment was lawful for (TREATMENTS order as keys). */
  comparable: Record<Treatment, number>;
  shares: Record<Treatment, number>;
}

/**
 * "The logging policy gave that treatment to at least 5% of comparable accounts" (issue 13): comparable accounts
 * are the training-period snapshots of the same delinquency bucket (the logging policy's preferences are set per
 * bucket) for which the treatment was lawful at the time (the policy's guardrails and the account's rule pack: legal
 * without a notice, a call to an invalid phone or a suppressed account are not comparable, they could not get it).
 */
function comparableShares(
  data: Awaited<ReturnType<typeof readLoggedSnapshots>>,
  fromDay: number,
  blocked: (i: number) => Partial<Record<Treatment, unknown>>,
): ComparableRow[] {
  const zero = () => Object.fromEntries(TREATMENTS.map((t) => [t, 0])) as Record<Treatment, number>;
  const out = RESPONSE_CELLS.map(() => ({ comparable: zero(), given: zero() }));
  for (let i = 0; i < data.asOf.length; i++) {
    if (data.asOf[i]! >= fromDay) continue;
    const row = out[responseCellOf(data.dpd[i]!)]!;
    const logged = TREATMENTS[data.treatment[i]!]!;
    const no = blocked(i);
    for (const t of TREATMENTS) {
      // What the logging policy did counts as lawful for it, whatever today's policy would say.
      if (t !== logged && no[t]) continue;
      row.comparable[t]++;
      if (t === logged) row.given[t]++;
    }
  }
  return out.map((r) => ({
    comparable: r.comparable,
    shares: Object.fromEntries(
      TREATMENTS.map((t) => [t, r.comparable[t] ? r.given[t] / r.comparable[t] : 0]),
    ) as Record<Treatment, number>,
  }));
}

export interface ResponseEvaluation {
  snapshots: number;
  from: string;
  callSlots: number;
  policies: Record<EvaluatedPolicy, PolicyValue>;
  /** (learned − logging) / (oracle − logging), on the true values. */
  learnedShareOfOracleGain: number;
  ranks: RankRow[];
  /** Held-out snapshots for which some lawful-or-not treatment fell outside the logged support. */
  outsideSupport: Record<Treatment, number>;
}

const T_INDEX = new Map<Treatment, number>(TREATMENTS.map((t, i) => [t, i]));

/**
 * Replays the four policies on the held-out months (from the response artifact's out-of-time start) and values
 * them against the truth.
 * @throws Error when the history has no truth table.
 */
export async function evaluateResponse(o: EvaluateResponseOptions): Promise<ResponseEvaluation> {
  const say = o.onProgress ?? (() => {});
  const model = await loadScoringModel(o.model);
  const response: InMemoryResponse =
    typeof o.response === 'string'
      ? await loadResponseArtifact(o.response, SNAPSHOT_FEATURES, model.version).then((r) => ({
          set: r.set,
          overlap: r.manifest.overlap.table,
          outOfTimeFrom: r.manifest.split.outOfTimeFrom,
        }))
      : o.response;
  const learnedFile = await readPolicyFile(o.learnedPolicy ?? 'policies/learned-ev.yaml');
  const matrixFile = await readPolicyFile(o.matrixPolicy ?? 'policies/default.yaml');
  const decisionMs = (d: string) => Date.parse(`${d}T12:00:00Z`);
  const data = await readLoggedSnapshots(o.history, decisionMs, (n) => say(`read ${n} snapshots`));
  const from = response.outOfTimeFrom;
  const fromDay = dayOf(from);
  const rows: number[] = [];
  for (let i = 0; i < data.asOf.length; i++) if (data.asOf[i]! >= fromDay) rows.push(i);
  if (!rows.length) throw new Error(`${o.history}: no logged snapshot on or after ${from}`);
  if (rows.some((i) => !data.truth[i]))
    throw new Error(`${o.history}: the held-out snapshots need the synthetic truth table to be evaluated`);
  const x = takeRows(data.x, rows);
  const w = predictCalibrated(model.willingness, x);
  const a = predictCalibrated(model.ability, x);
  const dpd = Float64Array.from(rows, (i) => data.dpd[i]!);
  const pred = predictResponses(response.set, x, dpd, { willingness: w, ability: a, version: model.version });

  const callIndex = T_INDEX.get('human_call')!;
  const dates = new Map<number, number>();
  let calls = 0;
  for (const i of rows) {
    dates.set(data.asOf[i]!, (dates.get(data.asOf[i]!) ?? 0) + 1);
    if (data.treatment[i] === callIndex) calls++;
  }
  const slots = o.callSlots ?? Math.round(calls / dates.size);
  const withSlots = (p: Policy): Policy => ({ ...p, capacity: { totalSlots: slots } });
  const learnedPolicy = withSlots(learnedFile);
  const matrixPolicy = withSlots(matrixFile);

  const base = (k: number): Omit<ReplayInput, 'scores'> => {
    const i = rows[k]!;
    return {
      account: data.accounts[i]!,
      contacts: data.contacts[i]!,
      logged: { treatment: TREATMENTS[data.treatment[i]!]!, propensity: data.propensity[i]! },
      paid30: data.paid[i]!,
      truth: data.truth[i]!,
    };
  };
  const outsideSupport = Object.fromEntries(TREATMENTS.map((t) => [t, 0])) as Record<Treatment, number>;
  const learnedScores: Scores[] = rows.map((_, k) => {
    const r = responseScores(pred, k);
    for (const t of r.responseOutsideSupport ?? []) outsideSupport[t]++;
    return { willingness: w[k]!, ability: a[k]!, ...r };
  });
  const truthScores: Scores[] = rows.map((i, k) => {
    const truth = data.truth[i] as unknown as Record<string, number>;
    // A treatment the world has no truth for (one the generator does not simulate) is left to the policy's lift
    // tables: the oracle knows only what the truth table says.
    const byTreatment = Object.fromEntries(
      TREATMENTS.filter(
        (t) => Number.isFinite(truth[`p_pay_${t}`]) && Number.isFinite(truth[`p_cover_${t}`]),
      ).map((t) => [t, { pPay: truth[`p_pay_${t}`]!, pCover: truth[`p_cover_${t}`]! }]),
    );
    return { willingness: w[k]!, ability: a[k]!, byTreatment };
  });
  const replays: Record<EvaluatedPolicy, PolicyReplay> = {
    learned: new PolicyReplay(learnedPolicy, learnedPolicy.champion, decisionMs),
    matrix: new PolicyReplay(matrixPolicy, matrixPolicy.champion, decisionMs),
    logging: new PolicyReplay(null, learnedPolicy.champion, decisionMs),
    oracle: new PolicyReplay(learnedPolicy, learnedPolicy.champion, decisionMs),
  };
  say(`replaying ${rows.length} held-out snapshots, ${slots} call slots a day`);
  replays.learned.add(rows.map((_, k) => ({ ...base(k), scores: learnedScores[k]! })));
  replays.matrix.add(rows.map((_, k) => ({ ...base(k), scores: { willingness: w[k]!, ability: a[k]! } })));
  replays.logging.add(rows.map((_, k) => ({ ...base(k), scores: learnedScores[k]! })));
  replays.oracle.add(rows.map((_, k) => ({ ...base(k), scores: truthScores[k]! })));
  for (const r of Object.values(replays)) r.finish();

  // The doubly robust estimator's outcome model is the learned response (lift tables outside the support),
  // the same for every policy, so the four estimates differ only in the decisions.
  const rules: Rules = learnedPolicy.champion;
  const q = (k: number, t: Treatment) => {
    const s = learnedScores[k]!;
    const r = responseOf(t, segmentOf(s, rules), s, rules);
    return data.overdue[rows[k]!]! * r.pPay * (r.pCover + (1 - r.pCover) * rules.response.partial_recovery);
  };
  const policies = {} as Record<EvaluatedPolicy, PolicyValue>;
  for (const name of EVALUATED_POLICIES) {
    const tape = replays[name].tape;
    if (tape.n !== rows.length) throw new Error(`${name}: replayed ${tape.n} of ${rows.length} snapshots`);
    const trueNet = new Float64Array(tape.n);
    const dr = new Float64Array(tape.n);
    const mix = Object.fromEntries(TREATMENTS.map((t) => [t, 0])) as Record<Treatment, number>;
    for (let k = 0; k < tape.n; k++) {
      const t = TREATMENTS[tape.treatment[k]!]!;
      mix[t] += 1 / tape.n;
      trueNet[k] = tape.sim[k]! - tape.cost[k]!;
      const i = rows[k]!;
      const realised = Math.min(data.paid[i]!, data.overdue[i]!);
      const logged = TREATMENTS[data.treatment[i]!]!;
      dr[k] =
        name === 'logging'
          ? realised - tape.cost[k]!
          : drNet({
              qChosen: q(k, t),
              qLogged: q(k, logged),
              same: logged === t ? 1 : 0,
              propensity: data.propensity[i]!,
              realised,
              cost: tape.cost[k]!,
            });
    }
    policies[name] = { trueNet: meanInterval(trueNet).value, dr: meanInterval(dr), treatmentMix: mix };
  }

  const minShare = o.spearmanMinShare ?? 0.05;
  // Each account's own rule pack (by region) and the policy's guardrails for it, as decide() applies them.
  const blocked = (i: number) => {
    const floors = floorsOf(learnedPolicy.packs, data.accounts[i]!);
    return constraintsFor(
      data.accounts[i]!,
      data.contacts[i]!,
      decisionMs(data.accounts[i]!.as_of_date),
      floors.guardrails,
      floors.pack,
    ).treatment;
  };
  const lawful = (i: number, t: Treatment) => !blocked(i)[t];
  const comparable = comparableShares(data, fromDay, blocked);
  const holdIndex = T_INDEX.get('hold')!;
  const ranks: RankRow[] = [];
  for (const t of TREATMENTS) {
    // A treatment never logged (the staged flow's field visit and agency placement) has no fitted arm to rank.
    if (t === 'hold' || !response.set.arms[t]) continue;
    const k = T_INDEX.get(t)!;
    const cells = RESPONSE_CELLS.filter(
      (_, c) => comparable[c]!.shares[t] >= minShare && comparable[c]!.shares.hold >= minShare,
    );
    const predicted: number[] = [];
    const truth: number[] = [];
    rows.forEach((i, j) => {
      if (!cells.includes(RESPONSE_CELLS[responseCellOf(data.dpd[i]!)]!)) return;
      const T = TREATMENTS.length;
      if (!pred.supported[j * T + k] || !pred.supported[j * T + holdIndex]) return;
      // The account itself must be one the treatment is lawful for: legal for an account without a notice is
      // neither taken nor allowed, and its response there is never used.
      if (!lawful(i, t)) return;
      const tr = data.truth[i] as unknown as Record<string, number>;
      predicted.push(pred.pPay[k]![j]! - pred.pPay[holdIndex]![j]!);
      truth.push(tr[`p_pay_${t}`]! - tr.p_pay_hold!);
    });
    ranks.push({ treatment: t, cells, snapshots: predicted.length, spearman: spearman(predicted, truth) });
  }
  return {
    snapshots: rows.length,
    from,
    callSlots: slots,
    policies,
    learnedShareOfOracleGain: shareOfOracleGain(
      policies.learned.trueNet,
      policies.logging.trueNet,
      policies.oracle.trueNet,
    ),
    ranks,
    outsideSupport,
  };
}
