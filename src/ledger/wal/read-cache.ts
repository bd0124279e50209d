import type { ContactRow } from '../../core/schema/tables.ts';
import { VISIT_TREATMENT } from '../call-slots.ts';
import type { ContactRecord, DecisionRecord } from '../contract.ts';

/** A contact in a window: its row, its time in epoch ms, and its id when known (rows read from a store lack it). */
export interface WindowItem {
  row: ContactRow;
  ms: number;
  id: string | null;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Time order; the stores break ties by contact_id, which their rows do not carry: a stored row goes before an
 * appended contact of the same millisecond, appended ones by id in byte order.
 */
export function windowOrder(a: WindowItem, b: WindowItem): number {
  return (
    a.ms - b.ms || (a.id === null ? (b.id === null ? 0 : -1) : b.id === null ? 1 : utf8Order(a.id, b.id))
  );
}

/**
 * Each recently read account's contacts from some instant on (its window), kept current by every acknowledged
 * append, so the score path reads contact history from memory. Filled from the store and the unloaded records
 * the first time an account is read (or read further back than its window); least recently read accounts are
 * dropped beyond `maxAccounts`. Valid only while this process is the store's only writer.
 */
export class ContactWindows {
  private readonly windows = new Map<string, { fromMs: number; items: WindowItem[] }>();

  constructor(private readonly maxAccounts: number) {}

  /** The accounts among `ids` whose window does not reach back to `sinceMs`. */
  missing(ids: Iterable<string>, sinceMs: number): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const w = this.windows.get(id);
      if (!w || w.fromMs > sinceMs) out.push(id);
    }
    return out;
  }

  /** Installs an account's window from `fromMs` on (`items` in window order). */
  fill(id: string, fromMs: number, items: WindowItem[]): void {
    this.windows.delete(id);
    this.windows.set(id, { fromMs, items });
    while (this.windows.size > this.maxAccounts) this.windows.delete(this.windows.keys().next().value!);
  }

  /** Copies of an account's rows at or after `sinceMs`, or undefined when its window does not reach back that far. */
  read(id: string, sinceMs: number): ContactRow[] | undefined {
    const w = this.windows.get(id);
    if (!w || w.fromMs > sinceMs) return undefined;
    this.windows.delete(id); // least recently read goes first
    this.windows.set(id, w);
    const out: ContactRow[] = [];
    for (const it of w.items) if (it.ms >= sinceMs) out.push({ ...it.row });
    return out;
  }

  /** An acknowledged contact: into its account's window when that window covers its time. */
  add(c: ContactRecord, row: ContactRow): void {
    const w = this.windows.get(c.account_id);
    const ms = Date.parse(c.ts);
    if (!w || ms < w.fromMs) return;
    const item = { row, ms, id: c.contact_id };
    let i = w.items.length;
    while (i > 0 && windowOrder(w.items[i - 1]!, item) > 0) i--;
    w.items.splice(i, 0, item);
  }

  clear(): void {
    this.windows.clear();
  }
}

/**
 * Human-call slots taken since a few recent bounds (the score path asks from the start of the UTC day), per team,
 * and field visits since them: counted once from the store and the unloaded records, then kept current by every
 * acknowledged decision. Valid only while this process is the store's only writer.
 */
export class SlotCounts {
  private readonly bySince = new Map<number, Map<string, number>>();
  private readonly visitsBySince = new Map<number, number>();

  constructor(private readonly maxBounds = 8) {}

  get(sinceMs: number): Map<string, number> | undefined {
    const m = this.bySince.get(sinceMs);
    return m ? new Map(m) : undefined;
  }

  set(sinceMs: number, counts: Map<string, number>): void {
    this.bySince.delete(sinceMs);
    this.bySince.set(sinceMs, counts);
    while (this.bySince.size > this.maxBounds) this.bySince.delete(this.bySince.keys().next().value!);
  }

  getVisits(sinceMs: number): number | undefined {
    return this.visitsBySince.get(sinceMs);
  }

  setVisits(sinceMs: number, n: number): void {
    this.visitsBySince.delete(sinceMs);
    this.visitsBySince.set(sinceMs, n);
    while (this.visitsBySince.size > this.maxBounds)
      this.visitsBySince.delete(this.visitsBySince.keys().next().value!);
  }

  /** An acknowledged decision: counted under every bound at or before its time when it took a call or visit slot. */
  add(d: DecisionRecord): void {
    const ms = Date.parse(d.decided_at);
    if (d.treatment === VISIT_TREATMENT)
      for (const [since, n] of this.visitsBySince) if (ms >= since) this.visitsBySince.set(since, n + 1);
    if (d.call_team === null) return;
    for (const [since, m] of this.bySince) if (ms >= since) m.set(d.call_team, (m.get(d.call_team) ?? 0) + 1);
  }

  clear(): void {
    this.bySince.clear();
    this.visitsBySince.clear();
  }
}
