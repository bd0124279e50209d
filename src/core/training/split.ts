import { createRng } from '../random.ts';

/** Role of a row in training: fit on TRAIN, stop early and calibrate on VALIDATION, report on OUT_OF_TIME. */
export const TRAIN = 0;
export const VALIDATION = 1;
export const OUT_OF_TIME = 2;

export interface SplitOptions {
  /** The latest this-many snapshot months are held out as out-of-time (default 3). */
  ootMonths: number;
  /** Share of the remaining accounts (not rows) used for validation (default 0.2). */
  validationShare: number;
  seed: number;
}

export interface Split {
  roles: Uint8Array;
  /** First day (day number) of the out-of-time period. */
  ootStartDay: number;
  months: number;
}

const monthOf = (day: number) => {
  const d = new Date(day * 86_400_000);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

/**
 * Out-of-time split: the latest `ootMonths` months of snapshots are held out; of the earlier rows, a seeded
 * share of *accounts* goes to validation so no account straddles train and validation.
 * @throws RangeError when the data spans too few months to hold any out.
 */
export function outOfTimeSplit(asOf: Int32Array, accountIds: readonly string[], o: SplitOptions): Split {
  const months = [...new Set(Array.from(asOf, monthOf))].sort((a, b) => a - b);
  if (months.length <= o.ootMonths) {
    throw new RangeError(
      `out-of-time split: the data spans ${months.length} snapshot month(s); holding out ${o.ootMonths} needs at least ${o.ootMonths + 1}`,
    );
  }
  const firstOot = months[months.length - o.ootMonths]!;
  const rng = createRng(o.seed, 0x5e1);
  const valAccounts = new Map<string, boolean>();
  // Accounts are assigned in order of first appearance, so the split depends on the data and the seed only.
  const roles = new Uint8Array(asOf.length);
  let ootStartDay = Number.POSITIVE_INFINITY;
  for (let i = 0; i < asOf.length; i++) {
    if (monthOf(asOf[i]!) >= firstOot) {
      roles[i] = OUT_OF_TIME;
      ootStartDay = Math.min(ootStartDay, asOf[i]!);
      continue;
    }
    const id = accountIds[i]!;
    let v = valAccounts.get(id);
    if (v === undefined) {
      v = rng.next() < o.validationShare;
      valAccounts.set(id, v);
    }
    roles[i] = v ? VALIDATION : TRAIN;
  }
  return { roles, ootStartDay, months: months.length };
}
