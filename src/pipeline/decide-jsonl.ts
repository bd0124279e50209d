import { type BatchItem, decideBatch } from '../core/policy/batch.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import { decideInputSchema, scoresFromWire } from '../core/policy/input.ts';
import type { Policy } from '../core/policy/load.ts';
import type { Decision } from '../core/policy/types.ts';
import { type FieldIssue, fieldIssues, issueText } from '../core/schema/issues.ts';
import type { ContactRow } from '../core/schema/tables.ts';
import { admitArchive } from '../core/scoring/input.ts';

/** A line of input that could not be decided: its 1-based number and every failing field. */
export interface LineError {
  line: number;
  issues: FieldIssue[];
}

/** The outcome of each non-blank input line, in input order. */
export type LineResult = { line: number; decision: Decision } | { line: number; error: LineError };

/**
 * Decides JSON lines (`{"account": …, "scores": …, "contacts": […]}`, one per line) as one batch, so the
 * day's call capacity is shared among them. A malformed line gets an error naming its line and fields; the
 * other lines are still decided. Blank lines are skipped.
 *
 * Each line is held to the API's rules against `clockMs`, the wall clock (epoch ms; default `now`): `as_of_date`
 * in range, contact times at most the clock-skew tolerance ahead (such a contact counts from `clockMs`), and the
 * data contract's cross-field rules on the account — so a replay with an earlier `now` still refuses a contact
 * that cannot have happened yet.
 */
export function decideJsonLines(
  lines: readonly string[],
  policy: Policy,
  now: number,
  slots?: CallSlots | null,
  clockMs: number = now,
): LineResult[] {
  const results: LineResult[] = [];
  const items: BatchItem[] = [];
  const at: number[] = [];
  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      results.push({
        line,
        error: { line, issues: [{ path: '(line)', message: `not JSON: ${(e as Error).message}` }] },
      });
      return;
    }
    const parsed = decideInputSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      results.push({ line, error: { line, issues: fieldIssues(parsed.error) } });
      return;
    }
    // The archive checks with no instalments: the account's own rules, its date and its contacts' times.
    const { account, contacts } = parsed.data;
    const admitted = admitArchive({ account, installments: [], contacts }, clockMs);
    if (!admitted.ok) {
      results.push({ line, error: { line, issues: admitted.issues } });
      return;
    }
    at.push(results.length);
    results.push({ line, error: { line, issues: [] } }); // replaced by its decision below
    items.push({
      account,
      scores: scoresFromWire(parsed.data.scores),
      // toArchive keeps every field of the validated rows: they are contact rows of the contract.
      contacts: admitted.archive.contacts as readonly ContactRow[],
    });
  });
  const decisions = decideBatch(items, now, policy, slots === undefined ? undefined : slots);
  decisions.forEach((d, k) => {
    const r = results[at[k]!]!;
    results[at[k]!] = { line: r.line, decision: d };
  });
  return results;
}

/** `line 3: account.days_past_due: expected … (got …)`, one line per issue. */
export function lineErrorText(e: LineError): string {
  return e.issues.map((i) => `line ${e.line}: ${issueText(i)}`).join('\n');
}
