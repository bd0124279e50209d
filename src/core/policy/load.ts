import { parse as parseYaml } from 'yaml';
import { RepayriskError } from '../errors.ts';
import { type FieldIssue, fieldIssues, issueText } from '../schema/issues.ts';
import { deepMerge, isPlainObject } from './merge.ts';
import { builtinPacks } from './packs/catalog.ts';
import type { Pack } from './packs/schema.ts';
import { type PackSelection, resolvePacks } from './packs/select.ts';
import {
  type CallTeam,
  type Guardrails,
  type PolicyFile,
  policySchema,
  RULE_KEYS,
  type Rules,
  rulesSchema,
} from './schema.ts';
import { stagesOf } from './staging.ts';

/** A policy ready for `decide`: defaults filled in, the challenger arm resolved, every check passed. */
export interface Policy {
  version: string;
  description: string;
  /** Strategy rules of each arm; `challenger` is null without an experiment. */
  champion: Rules;
  challenger: Rules | null;
  experiment: { name: string; salt: string; challengerShare: number } | null;
  /**
   * The policy-wide guardrails, shared by both arms (an experiment may not loosen them). An account's own are its
   * rule pack's (`packs`, see packs/select.ts `floorsOf`): these with the pack's section merged over them.
   */
  guardrails: Guardrails;
  /** Which rule pack holds each account's legal floors (by region), each pack in use with its guardrails. */
  packs: PackSelection;
  /** Human-call capacity per day; null = unlimited. */
  capacity: { totalSlots: number } | { teams: readonly CallTeam[] } | null;
  /** Field visits per day; null = unlimited. */
  visitCapacity: { slots: number } | null;
  /** The validated file with its defaults, as `GET /v1/policy` shows it. */
  document: PolicyFile;
}

/** A policy file was refused; `issues` lists every problem found, `message` says them all. */
export class PolicyError extends RepayriskError {
  readonly source: string;
  readonly issues: readonly FieldIssue[];
  constructor(source: string, issues: readonly FieldIssue[]) {
    super(
      'invalid_data',
      `policy ${source} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${issueText(i)}`).join('\n'),
    );
    this.name = 'PolicyError';
    this.source = source;
    this.issues = issues;
  }
}

/**
 * Parses the text of a policy file (YAML; JSON is YAML too) and validates it.
 * @throws PolicyError listing every problem (syntax, unknown fields, out-of-range values, loosened guardrails).
 */
export function parsePolicyText(
  text: string,
  source: string,
  packs: ReadonlyMap<string, Pack> = builtinPacks(),
): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new PolicyError(source, [
      { path: '(file)', message: `not valid YAML or JSON: ${(e as Error).message}` },
    ]);
  }
  return parsePolicy(raw, source, packs);
}

/**
 * Validates a policy object, resolves its arms and its rule packs.
 * @param packs the rule packs a policy may select (default: those shipped in policies/packs/).
 * @throws PolicyError listing every problem found, a guardrail looser than its pack's rule with the clause.
 */
export function parsePolicy(
  raw: unknown,
  source: string,
  packs: ReadonlyMap<string, Pack> = builtinPacks(),
): Policy {
  const parsed = policySchema.safeParse(raw, { reportInput: true });
  // The challenger and the packs are checked even when the rest fails, so one round lists every problem.
  const arm = challengerOf(raw);
  const packed = resolvePacks(raw, packs);
  const issues = [...(parsed.success ? [] : fieldIssues(parsed.error)), ...arm.issues, ...packed.issues];
  const champion = parsed.success ? rulesOf(parsed.data) : null;
  const challenger = arm.rules;
  if (champion) issues.push(...stagedFlowIssues(champion, ''));
  if (challenger) issues.push(...stagedFlowIssues(challenger, 'experiment.challenger.'));
  if (!parsed.success || !champion || issues.length || !packed.selection)
    throw new PolicyError(source, issues);
  const doc = parsed.data;
  const experiment: Policy['experiment'] = doc.experiment
    ? {
        name: doc.experiment.name,
        salt: doc.experiment.salt ?? doc.experiment.name,
        challengerShare: doc.experiment.challenger_share,
      }
    : null;
  const visitCapacity = doc.visit_capacity ? { slots: doc.visit_capacity.slots } : null;
  let capacity: Policy['capacity'] = null;
  if (doc.capacity?.teams) capacity = { teams: doc.capacity.teams };
  else if (doc.capacity?.total_slots !== undefined) capacity = { totalSlots: doc.capacity.total_slots };
  return {
    version: doc.version,
    description: doc.description,
    champion,
    challenger,
    experiment,
    guardrails: doc.guardrails,
    packs: packed.selection,
    capacity,
    visitCapacity,
    document: doc,
  };
}

/**
 * The staged flow's cross-field rules of one arm: the matrix and the stages name only enabled treatments (a
 * fallback may name a disabled one: it is skipped), and every stage but the last has a contact channel that shows
 * it was tried.
 */
function stagedFlowIssues(rules: Rules, prefix: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  const off = (t: string) => t !== 'hold' && !rules.treatments[t as keyof Rules['treatments']].enabled;
  const why = (t: string) => `${t} is not enabled: set treatments.${t}.enabled to true to use it`;
  for (const [seg, cell] of Object.entries(rules.matrix))
    cell.forEach((t, i) => {
      if (off(t)) out.push({ path: `${prefix}matrix.${seg}.${i}`, message: why(t), got: JSON.stringify(t) });
    });
  const stages = rules.staging ? stagesOf(rules) : null;
  rules.staging?.stages.forEach((stage, k) => {
    stage.treatments.forEach((t, j) => {
      if (off(t))
        out.push({
          path: `${prefix}staging.stages.${k}.treatments.${j}`,
          message: why(t),
          got: JSON.stringify(t),
        });
    });
    if (stages && k < stages.length - 1 && stages[k]!.triedBy.length === 0)
      out.push({
        path: `${prefix}staging.stages.${k}.tried_by`,
        message: `expected a contact channel that shows stage ${k + 1} was tried: its treatments' channels are all named by earlier stages (or are agency)`,
        got: '[]',
      });
  });
  return out;
}

/** The challenger's rules: the policy's own rule sections with the challenger's overrides merged in. */
function challengerOf(raw: unknown): { rules: Rules | null; issues: FieldIssue[] } {
  if (!isPlainObject(raw) || !isPlainObject(raw.experiment) || !isPlainObject(raw.experiment.challenger))
    return { rules: null, issues: [] };
  const overrides = raw.experiment.challenger;
  const issues: FieldIssue[] = Object.keys(overrides)
    .filter((k) => !(RULE_KEYS as string[]).includes(k))
    .map((k) => ({
      path: `experiment.challenger.${k}`,
      message: `a challenger may only change ${RULE_KEYS.join(', ')} (guardrails and version are shared)`,
    }));
  const allowed = pick(overrides, RULE_KEYS);
  const merged = rulesSchema.safeParse(deepMerge(pick(raw, RULE_KEYS), allowed), { reportInput: true });
  if (!merged.success) {
    // Problems of the policy's own sections are reported once, under their own path.
    const own = rulesSchema.safeParse(pick(raw, RULE_KEYS));
    const ownPaths = new Set(own.success ? [] : fieldIssues(own.error).map((i) => i.path));
    issues.push(
      ...fieldIssues(merged.error)
        .filter((i) => !ownPaths.has(i.path))
        .map((i) => ({ ...i, path: `experiment.challenger.${i.path}` })),
    );
  }
  return { rules: merged.success && issues.length === 0 ? merged.data : null, issues };
}

function rulesOf(doc: PolicyFile): Rules {
  return {
    mode: doc.mode,
    min_days_past_due: doc.min_days_past_due,
    segments: doc.segments,
    matrix: doc.matrix,
    channels: doc.channels,
    treatments: doc.treatments,
    plan: doc.plan,
    promises: doc.promises,
    response: doc.response,
    staging: doc.staging,
  };
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
