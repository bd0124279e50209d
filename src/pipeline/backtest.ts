import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PromiseTally, snapshotPromises } from '../core/backtest/promises.ts';
import { PolicyReplay, type ReplayInput } from '../core/backtest/replay.ts';
import { bootstrap, summarisePolicy } from '../core/backtest/summarise.ts';
import type { BacktestReport, StabilityRow } from '../core/backtest/types.ts';
import { FEATURE_COUNT } from '../core/features/builder.ts';
import { matrix } from '../core/models/contract.ts';
import { segmentOf } from '../core/policy/decide.ts';
import { floorsOf } from '../core/policy/packs/select.ts';
import { predictCalibrated } from '../core/training/fit-target.ts';
import { replaySnapshots } from '../data/backtest-snapshots.ts';
import { RESPONSE_PROFILES, type ResponseProfile } from '../data/synthetic/response.ts';
import { withStagedTruth } from '../data/synthetic/staged-truth.ts';
import { readPointer } from '../registry/artifact.ts';
import { writeFileAtomic } from '../registry/files.ts';
import { readPolicyFile } from '../registry/policy-file.ts';
import { loadScoringModel } from '../service/live.ts';
import { type DecisionKey, writeDecisions } from './backtest-decisions.ts';

export interface BacktestOptions {
  history: string;
  policy: string;
  challenger?: string;
  /** Model artifact folder; default the champion under `models/`. */
  model?: string;
  /** Folder for backtest.json, decisions.csv / decisions.parquet (and the HTML report when a renderer is given). */
  out?: string;
  seed?: number;
  bootstrapSamples?: number;
  /** Decision instant of each snapshot: its date at this UTC time (HH:MM). */
  decisionTimeUtc?: string;
  onProgress?: (snapshots: number) => void;
  /** Score stability of the model by month (PSI), computed by the caller's function when given. */
  stability?: (modelDir: string, history: string) => Promise<StabilityRow[]>;
  /** Renders the HTML report when given. */
  renderHtml?: (r: BacktestReport) => Promise<string>;
}

/**
 * The treatment-response profile of a synthetic world (`world.json` `config.response`; absent = standard). A
 * history without world.json has no truth table, so the profile is never used there.
 * @throws Error naming world.json when its profile is not one the generator knows.
 */
export function worldResponseProfile(history: string): ResponseProfile {
  const file = join(history, 'world.json');
  if (!existsSync(file)) return 'standard';
  const world = JSON.parse(readFileSync(file, 'utf8')) as { config?: { response?: unknown } };
  const r = world.config?.response ?? 'standard';
  if (!(RESPONSE_PROFILES as readonly unknown[]).includes(r))
    throw new Error(
      `${file}: config.response: expected one of ${RESPONSE_PROFILES.join(', ')}, got ${JSON.stringify(r)}`,
    );
  return r as ResponseProfile;
}

/** The champion artifact folder under a models root. */
export function championDir(root = 'models', name = 'repayrisk'): string {
  const v = readPointer(root, name, 'CHAMPION');
  if (!v) throw new Error(`no CHAMPION under ${join(root, name)}: train and promote a model first`);
  return join(root, name, v);
}

/**
 * Replays the policy (and a challenger) over a history's delinquent snapshots through the same `decide` the API
 * uses, scoring each snapshot with the model, and estimates what each would have recovered: from the synthetic
 * truth where there is one (simulation), and off-policy from the logged treatments, propensities and outcomes
 * (IPW, doubly robust). The logged decisions are replayed too, as the baseline.
 */
export async function runBacktest(o: BacktestOptions): Promise<BacktestReport> {
  const modelDir = o.model ?? championDir();
  const model = await loadScoringModel(modelDir);
  const champion = await readPolicyFile(o.policy);
  const challenger = o.challenger ? await readPolicyFile(o.challenger) : null;
  const time = o.decisionTimeUtc ?? '12:00';
  const decisionMs = (date: string) => Date.parse(`${date}T${time}:00Z`);
  const replays = {
    champion: new PolicyReplay(champion, champion.champion, decisionMs),
    challenger: challenger ? new PolicyReplay(challenger, challenger.champion, decisionMs) : null,
    logged: new PolicyReplay(null, champion.champion, decisionMs),
  };
  const profile = worldResponseProfile(o.history);
  // Only a policy that can choose a visit or a placement needs their truth (the table has the logged ones only).
  const staged = [champion, challenger].some((p) =>
    [p?.champion, p?.challenger].some(
      (r) => r && (r.treatments.field_visit.enabled || r.treatments.agency_placement.enabled),
    ),
  );
  let n = 0;
  let realisedSum = 0;
  let curedSum = 0;
  let outcomes = 0;
  let hasTruth = false;
  let hasLogged = false;
  const keys: DecisionKey[] = [];
  let loggedEntries = 0;
  const promises = new PromiseTally();
  let hasPayments = false;
  for await (const chunk of replaySnapshots(o.history, decisionMs)) {
    const x = matrix(chunk.features, chunk.snapshots.length, FEATURE_COUNT);
    const w = predictCalibrated(model.willingness, x);
    const a = predictCalibrated(model.ability, x);
    const inputs: ReplayInput[] = chunk.snapshots.map((s, i) => ({
      account: s.account,
      contacts: s.contacts,
      ...(s.payments ? { payments: s.payments } : {}),
      scores: { willingness: w[i]!, ability: a[i]! },
      logged: s.logged,
      paid30: s.paid30,
      // The truth table prices the logged treatments; the staged flow's come from the world's response profile.
      truth: s.truth && staged ? withStagedTruth(s.truth, s.account, profile) : s.truth,
    }));
    chunk.snapshots.forEach((s, i) => {
      if (!s.payments) return;
      hasPayments = true;
      const found = snapshotPromises({
        contacts: s.contacts,
        later: s.later,
        payments: s.payments,
        decisionMs: decisionMs(s.account.as_of_date),
        knownUntilMs: decisionMs(s.lastAsOfDate),
        timezone: s.account.timezone,
        graceDays: floorsOf(champion.packs, s.account).guardrails.promise_grace_days,
      });
      promises.add(segmentOf(inputs[i]!.scores, champion.champion), s.logged?.treatment ?? null, found);
    });
    for (const s of chunk.snapshots) {
      keys.push({
        account_id: s.account.account_id,
        as_of_date: s.account.as_of_date,
        entries: {
          champion: keys.length,
          ...(replays.challenger ? { challenger: keys.length } : {}),
          logged: s.logged ? loggedEntries++ : -1,
        },
      });
      if (s.truth) hasTruth = true;
      if (s.logged && Number.isFinite(s.paid30)) {
        hasLogged = true;
        outcomes++;
        realisedSum += Math.min(s.paid30, s.account.amount_overdue);
        curedSum += s.paid30 >= s.account.amount_overdue - 0.005 ? 1 : 0;
      }
    }
    replays.champion.add(inputs);
    replays.challenger?.add(inputs);
    replays.logged.add(inputs);
    n += inputs.length;
    o.onProgress?.(n);
  }
  for (const r of Object.values(replays)) r?.finish();
  const seed = o.seed ?? 1;
  const samples = o.bootstrapSamples ?? 200;
  const paired = bootstrap(
    replays.challenger ? [replays.champion.tape, replays.challenger.tape] : [replays.champion.tape],
    samples,
    seed,
  );
  const base = bootstrap([replays.logged.tape], samples, seed + 1);
  const policies = [summarisePolicy(replays.champion, 'champion', champion.version, paired.intervals[0]!)];
  if (replays.challenger && challenger)
    policies.push(
      summarisePolicy(replays.challenger, 'challenger', challenger.version, paired.intervals[1]!),
    );
  policies.push(summarisePolicy(replays.logged, 'logged', 'historical (logged)', base.intervals[0]!));
  const report: BacktestReport = {
    history: o.history,
    model_version: model.version,
    decision_time_utc: time,
    snapshots: n,
    seed,
    bootstrap_samples: samples,
    realised: {
      recovery: outcomes ? realisedSum / outcomes : Number.NaN,
      cure_rate: outcomes ? curedSum / outcomes : Number.NaN,
    },
    estimators: { simulation: hasTruth, ipw: hasLogged, doubly_robust: hasLogged },
    policies,
    difference: paired.difference,
    stability: o.stability ? await o.stability(modelDir, o.history) : [],
    promises: hasPayments ? promises.summary() : null,
  };
  if (o.out) {
    mkdirSync(o.out, { recursive: true });
    writeFileAtomic(join(o.out, 'backtest.json'), `${JSON.stringify(report, null, 2)}\n`);
    const written = {
      champion: replays.champion,
      ...(replays.challenger ? { challenger: replays.challenger } : {}),
      logged: replays.logged,
    };
    await writeDecisions(o.out, keys, written);
    if (o.renderHtml) writeFileAtomic(join(o.out, 'backtest.html'), await o.renderHtml(report));
  }
  return report;
}
