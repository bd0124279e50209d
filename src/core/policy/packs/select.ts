import { type FieldIssue, fieldIssues } from '../../schema/issues.ts';
import type { AccountRow } from '../../schema/tables.ts';
import { deepMerge, isPlainObject } from '../merge.ts';
import { type Guardrails, guardrailsSchema } from '../schema.ts';
import { floorIssues, planFloorIssues } from './floors.ts';
import type { Pack } from './schema.ts';

/** The legal floors of one account: its rule pack, and the policy's guardrails for that pack's accounts. */
export interface AccountFloors {
  pack: Pack;
  guardrails: Guardrails;
}

/** How a policy maps accounts to rule packs, with each pack in use resolved. */
export interface PackSelection {
  /** Pack of an account whose region is not listed. */
  default: string;
  /** Region code → pack name. */
  regions: ReadonlyMap<string, string>;
  /** Every pack the policy can select, with the guardrails its accounts get. */
  byName: ReadonlyMap<string, AccountFloors>;
}

/** The rule pack and guardrails of `account` under a policy's selection (by its `region`). */
export function floorsOf(selection: PackSelection, account: Pick<AccountRow, 'region'>): AccountFloors {
  const name = selection.regions.get(account.region) ?? selection.default;
  // Every name in the selection was resolved at load, so this lookup cannot miss.
  return selection.byName.get(name)!;
}

/**
 * Resolves the `packs` section of a raw policy against the known packs: each selected pack's guardrails (the
 * policy's `guardrails`, with the pack's own `packs.guardrails.<pack>` merged over them), checked against the
 * pack's rules. Problems are returned, not thrown, so the policy's loader lists them beside its own; a section
 * the schema refuses is left to the schema's report.
 */
export function resolvePacks(
  raw: unknown,
  known: ReadonlyMap<string, Pack>,
): { selection: PackSelection | null; issues: FieldIssue[] } {
  const doc = isPlainObject(raw) ? raw : {};
  const section = isPlainObject(doc.packs) ? doc.packs : {};
  const globalRaw = isPlainObject(doc.guardrails) ? doc.guardrails : {};
  const issues: FieldIssue[] = [];
  const names = `known: ${[...known.keys()].sort().join(', ')}`;
  const unknown = (path: string, name: unknown) =>
    issues.push({ path, message: `expected a rule pack (${names})`, got: JSON.stringify(name) });

  const def = section.default === undefined ? 'us-reg-f' : section.default;
  if (typeof def !== 'string') return { selection: null, issues };
  if (!known.has(def)) unknown('packs.default', def);
  const regions = new Map<string, string>();
  if (isPlainObject(section.regions))
    for (const [region, name] of Object.entries(section.regions)) {
      if (typeof name !== 'string') continue;
      if (!known.has(name)) unknown(`packs.regions.${region}`, name);
      regions.set(region, name);
    }
  const overrides = isPlainObject(section.guardrails) ? section.guardrails : {};
  for (const name of Object.keys(overrides)) if (!known.has(name)) unknown(`packs.guardrails.${name}`, name);

  const byName = new Map<string, AccountFloors>();
  const inUse = new Set([def, ...regions.values(), ...Object.keys(overrides)]);
  for (const name of inUse) {
    const pack = known.get(name);
    if (!pack) continue;
    const own = isPlainObject(overrides[name]) ? overrides[name] : {};
    const prefix = `packs.guardrails.${name}`;
    const merged = deepMerge(globalRaw, own);
    const parsed = guardrailsSchema.safeParse(merged, { reportInput: true });
    // A field the schema refuses is reported by the schema (the policy-wide section) or here (the pack's own);
    // the floors are still checked on every field that is valid, so one round lists every problem.
    if (!parsed.success)
      for (const i of fieldIssues(parsed.error))
        if (stated(own, i.path)) issues.push({ ...i, path: `${prefix}.${i.path}` });
    const valid = parsed.success ? parsed.data : validPart(merged);
    const pathOf = (field: string) => (stated(own, field) ? `${prefix}.${field}` : `guardrails.${field}`);
    issues.push(...floorIssues(valid, pack, pathOf));
    byName.set(name, { pack, guardrails: valid });
    // Plan offers: neither the policy nor its challenger may switch off forbearance a selected pack requires.
    issues.push(...planFloorIssues(forbearanceAccounts(doc), pack, 'plan.forbearance.accounts'));
    const challenger = isPlainObject(doc.experiment) ? doc.experiment.challenger : undefined;
    issues.push(
      ...planFloorIssues(
        forbearanceAccounts(challenger),
        pack,
        'experiment.challenger.plan.forbearance.accounts',
      ),
    );
  }
  const unique = issues.filter(
    (i, k) => issues.findIndex((j) => j.path === i.path && j.message === i.message) === k,
  );
  if (unique.length) return { selection: null, issues: unique };
  return { selection: { default: def, regions, byName }, issues: [] };
}

/** The `plan.forbearance.accounts` a raw policy section states, if any. */
function forbearanceAccounts(raw: unknown): unknown {
  if (!isPlainObject(raw) || !isPlainObject(raw.plan) || !isPlainObject(raw.plan.forbearance))
    return undefined;
  return raw.plan.forbearance.accounts;
}

/** The guardrails of `raw` with every field the schema refuses left at its default. */
function validPart(raw: unknown): Guardrails {
  let at = structuredClone(raw);
  for (let round = 0; round < 8; round++) {
    const r = guardrailsSchema.safeParse(at);
    if (r.success) return r.data;
    for (const i of r.error.issues) {
      const path = i.code === 'unrecognized_keys' ? [...i.path, ...i.keys] : i.path;
      at = dropPath(at, path);
    }
  }
  return guardrailsSchema.parse({});
}

/** `raw` without the value at `path` (the whole input when the path is empty). */
function dropPath(raw: unknown, path: readonly PropertyKey[]): unknown {
  if (path.length === 0 || !isPlainObject(raw)) return {};
  const [k, ...rest] = path;
  const out = { ...raw };
  if (rest.length === 0) delete out[String(k)];
  else out[String(k)] = dropPath(out[String(k)], rest);
  return out;
}

/** Whether a dotted field path is present in a raw (partial) guardrails object. */
function stated(raw: Record<string, unknown>, field: string): boolean {
  let at: unknown = raw;
  for (const k of field.split('.').filter((x) => x !== '')) {
    if (!isPlainObject(at) || !(k in at)) return false;
    at = at[k];
  }
  return true;
}

/**
 * The longest window, in days, any selected pack's guardrails count contacts over (conversation cooldown, channel
 * caps): how far back a caller must read an account's contacts so no pack's caps undercount.
 */
export function longestContactWindowDays(selection: PackSelection): number {
  let days = 0;
  for (const { guardrails: g } of selection.byName.values())
    days = Math.max(days, g.conversation_cooldown_days, ...Object.values(g.caps).map((c) => c.days));
  return days;
}
