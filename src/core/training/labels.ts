/** The two targets of DESIGN §4. */
export const TARGETS = ['willingness', 'ability'] as const;
export type Target = (typeof TARGETS)[number];

/** What a positive label means, in words, for reports. */
export const TARGET_MEANING: Record<Target, string> = {
  willingness: 'pays anything within 30 days',
  ability: 'payments within 30 days cover the overdue amount, given it pays',
};

export interface Labelled {
  /** Indices of the dataset rows this target is defined on. */
  rows: Int32Array;
  y: Uint8Array;
}

/**
 * Labels of one target from amounts paid within 30 days (NaN = no outcome row: the snapshot is skipped).
 * willingness = paid > 0, on every snapshot with an outcome; ability = paid >= overdue, on those that paid.
 */
export function labelTarget(target: Target, paid30: Float64Array, overdue: Float64Array): Labelled {
  const rows: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < paid30.length; i++) {
    const paid = paid30[i]!;
    if (Number.isNaN(paid)) continue;
    if (target === 'willingness') {
      rows.push(i);
      y.push(paid > 0 ? 1 : 0);
    } else if (paid > 0) {
      rows.push(i);
      y.push(paid >= overdue[i]! - 0.005 ? 1 : 0);
    }
  }
  return { rows: Int32Array.from(rows), y: Uint8Array.from(y) };
}
