import { type BatchItem, decideBatch } from '../core/policy/batch.ts';
import type { CallSlots } from '../core/policy/capacity.ts';
import { decideInputSchema, historyOf, scoresFromWire } from '../core/policy/input.ts';
import type { Policy } from '../core/policy/load.ts';
import type { Decision } from '../core/policy/types.ts';
import { type FieldIssue, fieldIssues, issueText } from '../core/schema/issues.ts';

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
 */
export function decideJsonLines(
  lines: readonly string[],
  policy: Policy,
  now: number,
  slots?: CallSlots | null,
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
    at.push(results.length);
    results.push({ line, error: { line, issues: [] } }); // replaced by its decision below
    items.push({
      account: parsed.data.account,
      scores: scoresFromWire(parsed.data.scores),
      contacts: historyOf(parsed.data),
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
