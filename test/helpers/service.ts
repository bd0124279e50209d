import { Writable } from 'node:stream';
import { reviewOrder } from '../../src/core/policy/human-review.ts';
import type { ContactRow } from '../../src/core/schema/tables.ts';
import { type ApiKey, hashKey } from '../../src/http/auth.ts';
import { slotShortfall } from '../../src/ledger/call-slots.ts';
import type {
  AuditQuery,
  CallSlotLimit,
  ContactRecord,
  DecisionRecord,
  Ledger,
  ReviewEventRecord,
  StoredAnswer,
} from '../../src/ledger/contract.ts';
import {
  answerId,
  answerTaken,
  checkAnswer,
  checkContacts,
  checkDecisions,
  checkReviewEvents,
  duplicateInLedger,
  LedgerError,
} from '../../src/ledger/schema-sql.ts';
import { loadLiveState } from '../../src/service/live.ts';
import type { Live, LiveState, ReloadOutcome } from '../../src/service/live-types.ts';
import { makeAccount } from './account.ts';

/** Which ledger operations fail (throw) until switched back. */
export interface LedgerFaults {
  append?: boolean;
  read?: boolean;
  /** ping resolves false ('false') or throws ('throw'). */
  ping?: false | 'false' | 'throw';
}

/**
 * An in-memory ledger that honours the contract: appends are all or nothing, reads see only committed rows,
 * `contactsFor` filters by account and `ts >= sinceMs`, `callSlotsUsed` counts decisions with a call team,
 * `visitsUsed` decisions whose treatment is `field_visit`.
 * `faults` makes operations fail on demand (the 503 paths).
 */
export class MemoryLedger implements Ledger {
  readonly kind = 'memory';
  readonly decisions: DecisionRecord[] = [];
  readonly contacts: ContactRecord[] = [];
  /** Stored idempotent answers by `answerId(scope, key)`. */
  readonly answers = new Map<string, StoredAnswer>();
  readonly reviews: ReviewEventRecord[] = [];
  private readonly byAccount = new Map<string, ContactRecord[]>();
  faults: LedgerFaults = {};
  closed = false;

  /** A store over `from`'s rows (the same arrays): what opening a durable ledger again after a close gives. */
  constructor(from?: MemoryLedger) {
    if (!from) return;
    this.decisions = from.decisions;
    this.contacts = from.contacts;
    this.answers = from.answers;
    this.reviews = from.reviews;
    this.byAccount = from.byAccount;
  }

  private check(kind: 'append' | 'read'): void {
    if (this.closed) throw new LedgerError('closed', 'the memory ledger is closed');
    if (this.faults[kind]) throw new Error(`memory ledger: injected ${kind} failure`);
  }

  /**
   * Refuses what the real stores refuse, with their checks and errors, before anything is kept: an invalid
   * record or answer, an id already held, a key already answered. All or nothing.
   */
  private admit<T>(
    rows: readonly T[],
    id: (r: T) => string,
    held: (id: string) => boolean,
    what: string,
    field: string,
    answer?: StoredAnswer,
  ): void {
    if (answer) {
      checkAnswer(answer);
      if (this.answers.has(answerId(answer.scope, answer.key)))
        throw answerTaken(answer, rows.length, what, null);
    }
    for (const r of rows) if (held(id(r))) throw duplicateInLedger(field, id(r), rows.length, what, null);
    if (answer) this.answers.set(answerId(answer.scope, answer.key), { ...answer });
  }

  async appendDecisions(
    rows: readonly DecisionRecord[],
    answer?: StoredAnswer,
    limit?: CallSlotLimit,
  ): Promise<void> {
    this.check('append');
    checkDecisions(rows);
    // Synchronous from the count to the push: nothing can interleave, as the contract asks of a limited append.
    if (limit) {
      const used = { calls: this.slotsSince(limit.sinceMs), visits: this.visitsSince(limit.sinceMs) };
      const short = slotShortfall(used, rows, limit);
      if (short) throw short;
    }
    const held = new Set(this.decisions.map((d) => d.decision_id));
    this.admit(
      rows,
      (d) => d.decision_id,
      (id) => held.has(id),
      'decisions',
      'decision_id',
      answer,
    );
    this.decisions.push(...rows.map((r) => ({ ...structuredClone(r), decided_at: utc(r.decided_at) })));
  }

  async appendContacts(rows: readonly ContactRecord[], answer?: StoredAnswer): Promise<void> {
    this.check('append');
    checkContacts(rows);
    const held = new Set(this.contacts.map((c) => c.contact_id));
    this.admit(
      rows,
      (c) => c.contact_id,
      (id) => held.has(id),
      'contacts',
      'contact_id',
      answer,
    );
    // Instants come back as the stores give them: UTC, milliseconds.
    const copies = rows.map((r) => ({
      ...structuredClone(r),
      ts: utc(r.ts),
      recorded_at: utc(r.recorded_at),
    }));
    this.contacts.push(...copies);
    for (const c of copies) {
      const list = this.byAccount.get(c.account_id) ?? [];
      list.push(c);
      list.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
      this.byAccount.set(c.account_id, list);
    }
  }

  async appendReviewEvents(rows: readonly ReviewEventRecord[], answer?: StoredAnswer): Promise<void> {
    this.check('append');
    checkReviewEvents(rows);
    const held = new Set(this.reviews.map((r) => r.event_id));
    this.admit(
      rows,
      (r) => r.event_id,
      (id) => held.has(id),
      'review events',
      'event_id',
      answer,
    );
    this.reviews.push(
      ...rows.map((r) => ({ ...structuredClone(r), ts: utc(r.ts), recorded_at: utc(r.recorded_at) })),
    );
  }

  async reviewEvents(accountIds: readonly string[]): Promise<Map<string, ReviewEventRecord[]>> {
    this.check('read');
    const out = new Map<string, ReviewEventRecord[]>();
    for (const id of new Set(accountIds)) {
      const mine = this.reviews.filter((r) => r.account_id === id).sort(reviewOrder);
      if (mine.length) out.set(id, structuredClone(mine));
    }
    return out;
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    this.check('read');
    const d = this.decisions.find((r) => r.decision_id === id);
    return d ? structuredClone(d) : null;
  }

  async getAnswer(scope: string, key: string): Promise<StoredAnswer | null> {
    this.check('read');
    const a = this.answers.get(answerId(scope, key));
    return a ? { ...a } : null;
  }

  async pruneAnswers(beforeMs: number): Promise<number> {
    this.check('append');
    let n = 0;
    for (const [k, a] of this.answers)
      if (Date.parse(a.created_at) < beforeMs) {
        this.answers.delete(k);
        n++;
      }
    return n;
  }

  async contactHistory(q: AuditQuery): Promise<ContactRecord[]> {
    this.check('read');
    return auditPage(this.byAccount.get(q.accountId) ?? [], q, (c) => [c.ts, c.contact_id]);
  }

  async decisionHistory(q: AuditQuery): Promise<DecisionRecord[]> {
    this.check('read');
    const mine = this.decisions.filter((d) => d.account_id === q.accountId);
    return auditPage(mine, q, (d) => [d.decided_at, d.decision_id]);
  }

  async contactsFor(accountIds: readonly string[], sinceMs: number): Promise<Map<string, ContactRow[]>> {
    this.check('read');
    const out = new Map<string, ContactRow[]>();
    for (const id of new Set(accountIds)) {
      const rows: ContactRow[] = [];
      for (const c of this.byAccount.get(id) ?? []) {
        if (Date.parse(c.ts) < sinceMs) continue;
        const { contact_id: _id, recorded_at: _at, decision_id: _d, reported_ts: _r, ...row } = c;
        rows.push(row);
      }
      if (rows.length) out.set(id, rows);
    }
    return out;
  }

  async callSlotsUsed(sinceMs: number): Promise<Map<string, number>> {
    this.check('read');
    return this.slotsSince(sinceMs);
  }

  async visitsUsed(sinceMs: number): Promise<number> {
    this.check('read');
    return this.visitsSince(sinceMs);
  }

  private visitsSince(sinceMs: number): number {
    let n = 0;
    for (const d of this.decisions)
      if (d.treatment === 'field_visit' && Date.parse(d.decided_at) >= sinceMs) n++;
    return n;
  }

  private slotsSince(sinceMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.decisions)
      if (d.call_team !== null && Date.parse(d.decided_at) >= sinceMs)
        out.set(d.call_team, (out.get(d.call_team) ?? 0) + 1);
    return out;
  }

  async counts(): Promise<{ decisions: number; contacts: number }> {
    return { decisions: this.decisions.length, contacts: this.contacts.length };
  }

  async ping(): Promise<boolean> {
    if (this.faults.ping === 'throw') throw new Error('memory ledger: injected ping failure');
    return !this.closed && this.faults.ping !== 'false';
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An instant as the stores read it back: `Date.prototype.toISOString()` (UTC, milliseconds). */
const utc = (iso: string): string => new Date(Date.parse(iso)).toISOString();

/** One page of records as the Ledger contract orders them: time (ms) descending, then id descending (bytewise). */
function auditPage<T>(rows: readonly T[], q: AuditQuery, at: (r: T) => [string, string]): T[] {
  const cmp = (a: [number, string], b: [number, string]) =>
    a[0] !== b[0] ? b[0] - a[0] : -Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1]));
  const key = (r: T): [number, string] => {
    const [t, id] = at(r);
    return [Date.parse(t), id];
  };
  return rows
    .filter((r) => {
      const [ms, id] = key(r);
      if (q.sinceMs !== null && ms < q.sinceMs) return false;
      if (q.untilMs !== null && ms >= q.untilMs) return false;
      return q.before === null || cmp([q.before.ms, q.before.id], [ms, id]) < 0;
    })
    .sort((a, b) => cmp(key(a), key(b)))
    .slice(0, q.limit)
    .map((r) => structuredClone(r));
}

/** The live state of the committed champion and the default policy (loads in well under a second). */
export function committedState(): Promise<LiveState> {
  return loadLiveState({ modelsRoot: 'models', policyPath: 'policies/default.yaml' }, () => Date.parse(T0));
}

/** A `Live` whose reload swaps in `next` (when set) and reports what changed, or returns a canned outcome. */
export class FakeLive implements Live {
  next: LiveState | null = null;
  canned: ReloadOutcome | null = null;
  reloads = 0;
  constructor(private state: LiveState) {}

  current(): LiveState {
    return this.state;
  }

  async reload(): Promise<ReloadOutcome> {
    this.reloads++;
    if (this.canned) return this.canned;
    const old = this.state;
    if (this.next) this.state = this.next;
    const s = this.state;
    return {
      champion: { version: s.champion.version, changed: s.champion.version !== old.champion.version },
      challenger: {
        version: s.challenger?.version ?? null,
        changed: (s.challenger?.version ?? null) !== (old.challenger?.version ?? null),
      },
      policy: { version: s.policy.version, changed: s.policy !== old.policy },
      refused: [],
    };
  }
}

/** The test clock: a Wednesday, 15:00 UTC (09:00 in Chicago, inside contact hours). */
export const T0 = '2026-11-25T15:00:00Z';

/** Plain test keys by scope set, and their hashed configuration. */
export const PLAIN = {
  score: 'test-key-score-3f9a',
  contacts: 'test-key-contacts-77c1',
  admin: 'test-key-admin-d00d',
  all: 'test-key-all-5e5e',
} as const;

export function testKeys(rateLimit?: ApiKey['rateLimit']): ApiKey[] {
  const keys: ApiKey[] = [
    { id: 'scorer', sha256: hashKey(PLAIN.score), scopes: ['score'] },
    { id: 'dialer', sha256: hashKey(PLAIN.contacts), scopes: ['contacts'] },
    { id: 'ops', sha256: hashKey(PLAIN.admin), scopes: ['admin'] },
    { id: 'all', sha256: hashKey(PLAIN.all), scopes: ['score', 'contacts', 'admin'] },
  ];
  return rateLimit ? keys.map((k) => ({ ...k, rateLimit })) : keys;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Ids `<prefix>-1`, `<prefix>-2`, … */
export function counterIds(prefix = 'id'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

/** Twelve monthly instalments before the snapshot, the last `unpaid` of them unpaid. */
export function makeInstallments(asOf = '2026-11-01', unpaid = 3, amount = 150) {
  const end = new Date(`${asOf}T00:00:00Z`);
  return Array.from({ length: 12 }, (_, i) => {
    const due = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 12 + i, 5));
    const dueIso = due.toISOString().slice(0, 10);
    const paid = i < 12 - unpaid;
    const paidIso = new Date(due.getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
    return {
      installment_no: i + 1,
      due_date: dueIso,
      amount_due: amount,
      first_paid_date: paid ? paidIso : null,
      paid_date: paid ? paidIso : null,
      amount_paid: paid ? amount : 0,
    };
  });
}

/** A valid score body for one account (JSON-ready). */
export function scoreBody(overrides: Parameters<typeof makeAccount>[0] = {}) {
  return { account: makeAccount(overrides), installments: makeInstallments(), contacts: [] as unknown[] };
}

/** A writable that keeps every log line (pino writes one JSON object per line). */
export function logSink(): { stream: Writable; lines: () => string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.trim() !== ''),
  };
}
