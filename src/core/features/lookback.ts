/**
 * How far back a feature reads (DESIGN §2, §7). Each feature declares its lookback beside its definition; the
 * feature builder computes the feature with exactly that window, and the archive the score API asks callers for
 * is the union of the windows, so an archive cut to it gives the same features as the whole history.
 *
 * Every window ends the day before the snapshot and is counted in whole UTC days:
 * - instalments: rows with `due_date` in `[as_of_date - installmentsDays, as_of_date)`, read with the payments
 *   recorded on them (`first_paid_date`, `paid_date`, `amount_paid`, each counted only when before `as_of_date`);
 *   no feature reads a payment from an instalment outside its window;
 * - contacts: attempts with `ts` in `[as_of_date - contactsDays, as_of_date)` at 00:00 UTC.
 *
 * A feature of the snapshot row alone declares an empty lookback (`{}`).
 */
export interface Lookback {
  /** Days of instalments before the snapshot, by due date (with the payments recorded on them). */
  readonly installmentsDays?: number;
  /** Days of contact attempts before the snapshot, by timestamp (UTC days). */
  readonly contactsDays?: number;
}

/** The history tables a lookback can reach into, with the key that holds each window. */
export const LOOKBACK_KEYS = ['installmentsDays', 'contactsDays'] as const;
export type LookbackKey = (typeof LOOKBACK_KEYS)[number];

/** The largest window per history table over a list of lookbacks (0 when none reads the table). */
export function largestLookback(lookbacks: Iterable<Lookback>): Required<Lookback> {
  const out = { installmentsDays: 0, contactsDays: 0 };
  for (const lb of lookbacks)
    for (const key of LOOKBACK_KEYS) {
      const d = lb[key];
      if (d !== undefined) {
        if (!Number.isInteger(d) || d < 1)
          throw new Error(`lookback.${key}: expected a whole number of days >= 1, got ${d}`);
        if (d > out[key]) out[key] = d;
      }
    }
  return out;
}

/**
 * What an API archive must hold for the given windows, in the words the OpenAPI document and docs/api.md use, so
 * the text callers read is derived from the declared lookbacks (a test checks docs/api.md quotes it).
 */
export function archiveWindowsText(lb: Required<Lookback>): {
  archive: string;
  installments: string;
  contacts: string;
} {
  return {
    archive:
      `One account: its snapshot (\`account\`), its instalments due in the ${lb.installmentsDays} days before ` +
      `\`as_of_date\` and its contacts made in the ${lb.contactsDays} days before it; no feature reads older history.`,
    installments:
      `Instalments with \`due_date\` in the ${lb.installmentsDays} days before \`account.as_of_date\`, with the ` +
      'payments recorded on them; older rows are accepted and ignored.',
    contacts:
      `Contact attempts from the ${lb.contactsDays} days before \`account.as_of_date\` (00:00 UTC) up to now: the ` +
      'features read those before `as_of_date`, the contact caps the recent ones. Older rows are accepted and ' +
      'ignored; the contacts the service has recorded for the account are merged in.',
  };
}
