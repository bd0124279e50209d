import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Guardrails } from '../../src/core/policy/schema.ts';
import type { Ledger } from '../../src/ledger/contract.ts';
import { makeAccount } from './account.ts';
import { bearer, makeInstallments, PLAIN } from './service.ts';

/**
 * A model of the contact ledger as a dialer and a scorer see it through the API, for fast-check's model-based
 * commands (test/ledger-stateful.test.ts runs it in CI, bench/ledger-soak.ts for a million commands).
 *
 * The oracle is independent of the service: it counts, per account and channel, the contacts the API accepted
 * (at the instant the agreed semantics give them: the caller's `ts`, or the server's clock when the caller's is
 * ahead of it within the tolerance) and checks every decision against the policy's caps, the conversation cooldown
 * and an open promise to pay. Only the numbers (caps, windows) come from the loaded policy; the counting is ours.
 * Besides the decisions, every command checks what the ledger holds: a refused request records nothing, a replayed
 * one records nothing again, a batch records one decision per distinct account, and stored ids are exactly the
 * ids that were sent.
 */

const DAY = 86_400_000;
const MINUTE = 60_000;
/** The agreed clock-skew tolerance (issue 14): a `ts` at most this far ahead of the server's clock is accepted. */
export const SKEW_MS = 300_000;
/** The agreed minimum time an idempotent answer is kept (issue 14): a retry after it may run again. */
export const RETENTION_MS = 24 * 3_600_000;
/** The agreed identifier limit (issue 14), in code points. */
export const MAX_ID = 128;
const Y2000 = Date.parse('2000-01-01T00:00:00Z');
/** The fixed snapshot of every scored account (its archive never changes, so only the ledger moves decisions). */
const AS_OF = '2026-11-01';
const INSTALLMENTS = makeInstallments(AS_OF);
const CONVERSATION = new Set(['right_party', 'promise_to_pay', 'refused', 'dispute']);
const CAPPED = ['call', 'sms', 'email', 'app', 'letter'] as const;

/** Everything one model run talks to: the app under test, its ledger and the clock the app reads. */
export interface World {
  app: FastifyInstance;
  ledger: Ledger;
  clock: { now: number };
  guardrails: Guardrails;
  /** Runs so far (each run gets its own ids: accounts and idempotency keys carry the run's tag). */
  runs: number;
  /** Commands executed, by kind. */
  executed: Map<string, number>;
  /** When set, each check that fails is passed here before the command throws (the soak counts them). */
  onViolation?: (category: string, message: string) => void;
  /** The ledger's counts after the last command that wrote (see `grown`). */
  lastCounts?: { contacts: number; decisions: number };
}

/** One contact the API accepted, as the oracle keeps it. */
interface Counted {
  ms: number;
  channel: string;
  outcome: string;
  promiseDay: number | null;
}

/** A request sent earlier in the run, kept so a later command can retry it. */
interface Sent {
  route: '/v1/contacts' | '/v1/score';
  /** The server clock when it was first sent (a stored answer need only be kept for RETENTION_MS). */
  at: number;
  key: string | null;
  text: string;
  status: number;
  body: unknown;
  /** For contacts: the rows as sent (absolute instants), so a retry without a key can be judged at its own time. */
  rows?: ContactRowSpec[];
  /** For scores: the account ids as sent (null for an invalid one). */
  items?: (string | null)[];
  single?: boolean;
}

/** The per-run model. */
export interface Model {
  tag: string;
  accounts: string[];
  counted: Map<string, Counted[]>;
  sent: Sent[];
  decisionIds: string[];
  keySeq: number;
}

// ---- identifiers ---------------------------------------------------------------------------------------------

const cps = (s: string) => [...s].length;
const isControl = (cp: number) => cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Valid by the agreed rule: well-formed, 1..128 code points, no control characters, no leading U+FEFF. */
export function isValidId(s: string): boolean {
  if (LONE_SURROGATE.test(s) || s.startsWith('\ufeff')) return false;
  const points = [...s];
  return (
    points.length >= 1 && points.length <= MAX_ID && points.every((ch) => !isControl(ch.codePointAt(0)!))
  );
}

/** Odd but valid id bodies: composed and decomposed é (two different ids), emoji, ZWJ, RTL, BOM inside, 128 code points. */
export const ODD_IDS: readonly string[] = [
  'e\u0301-NFD',
  '\u00e9-NFC',
  '😀💳🏦',
  '𝔸'.repeat(MAX_ID),
  'חשבון-123',
  'حساب\u200f٣٤',
  '\u202eRLO-evil',
  '👩‍👩‍👧‍👦 family',
  `e${'\u0301'.repeat(MAX_ID - 1)}`,
  'a'.repeat(MAX_ID),
  ' A1 ',
  'x\ufeffy',
  'Ünïcödé-账户-42',
  'A0001',
  '\uffff',
];

/** Ids every service must refuse (issue 14 items 1): lone surrogates, too long, empty, control characters. */
export const BAD_IDS: Readonly<Record<string, string>> = {
  lone_high: 'S\ud800X',
  lone_low: '\udc00Z',
  too_long_ascii: 'x'.repeat(MAX_ID + 1),
  too_long_astral: '😀'.repeat(MAX_ID + 1),
  huge: 'y'.repeat(20_000),
  empty: '',
  nul: 'A\u0000B',
  newline: 'A\nB',
  del: 'A\u007fB',
  c1: 'A\u0085B',
  // A leading U+FEFF (byte-order mark): UTF-8 decoders (the DuckDB client's) drop it, so it is refused.
  bom_first: '\ufeffBOM-first',
};
const BAD_ID_KINDS = Object.keys(BAD_IDS);

/** `body` with the run's tag appended, cut to the id limit in code points (the tag keeps runs apart). */
export function taggedId(body: string, tag: string): string {
  const room = MAX_ID - cps(tag);
  return [...body].slice(0, room).join('') + tag;
}

const ODD_UNITS = [
  'a',
  'Z',
  '7',
  '-',
  ' ',
  'é',
  '\u0301',
  '😀',
  '\u200f',
  '\u200d',
  'ש',
  'ع',
  '٣',
  '𝔸',
  '\ufeff',
  '账',
];
/** Random valid id bodies: odd units and any code point, controls replaced, at most 100 code points. */
export const oddIdArb: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...ODD_UNITS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), {
    minLength: 1,
    maxLength: 100,
  })
  .map((units) =>
    [...units.join('')]
      .map((ch) => {
        const cp = ch.codePointAt(0)!;
        return isControl(cp) || (cp >= 0xd800 && cp <= 0xdfff) ? '_' : ch;
      })
      .join(''),
  )
  .filter((s) => isValidId(s));

// ---- contact rows ----------------------------------------------------------------------------------------------

type TsKind = 'past' | 'now' | 'ahead_ok' | 'ahead_edge' | 'ahead_bad' | 'year_2099' | 'before_2000';

/** A contact row as a command describes it, relative to the clock at the time it is first sent. */
export interface ContactSpec {
  account: number;
  channel: string;
  outcome: string;
  ts: TsKind;
  offsetMs: number;
  /** Minutes east of UTC to write `ts` in (0: `Z`). */
  tzMinutes: number;
  promiseDays: number;
  badId: string | null;
  decision: 'none' | 'recent' | 'odd' | 'bad';
}

/** A contact row as sent: absolute instant and text, and what makes it invalid whatever the clock (if anything). */
interface ContactRowSpec {
  accountId: string;
  tsMs: number;
  json: Record<string, unknown>;
  /** Invalid at any clock (a bad id): the reason. */
  invalid: string | null;
}

const channelArb = fc.oneof(
  { arbitrary: fc.constant('call'), weight: 6 },
  { arbitrary: fc.constantFrom('sms', 'email', 'app', 'letter'), weight: 3 },
  { arbitrary: fc.constantFrom('visit', 'legal'), weight: 1 },
);
const outcomeArb = fc.oneof(
  { arbitrary: fc.constantFrom('no_answer', 'delivered'), weight: 8 },
  { arbitrary: fc.constantFrom('right_party', 'refused', 'dispute', 'wrong_party'), weight: 2 },
  { arbitrary: fc.constant('promise_to_pay'), weight: 1 },
);
/** Which families of inputs the commands use (all by default; the soak can leave some out to look past a known defect). */
export interface Families {
  /** Idempotency-Key on posts and replays / key reuse on retries (else retries are plain resends). */
  idempotency: boolean;
  /** Contact ts ahead of the server (within and beyond the tolerance) and out of range. */
  skew: boolean;
  /** Ids that must be refused (lone surrogates, too long, empty, control characters). */
  badIds: boolean;
  /** Odd but valid ids (non-ASCII, emoji, combining marks, RTL, 128 code points); else plain ASCII ids. */
  oddIds: boolean;
  /** The same account more than once in a batch. */
  repeats: boolean;
}
export const ALL_FAMILIES: Families = {
  idempotency: true,
  skew: true,
  badIds: true,
  oddIds: true,
  repeats: true,
};

function tsArbOf(f: Families): fc.Arbitrary<{ ts: TsKind; offsetMs: number }> {
  const k = (ts: TsKind, offsetMs: fc.Arbitrary<number>, weight: number) => ({
    arbitrary: fc.record({ ts: fc.constant(ts), offsetMs }),
    weight,
  });
  const base = [k('past', fc.integer({ min: 1, max: 8 * DAY }), 10), k('now', fc.constant(0), 3)];
  if (!f.skew) return fc.oneof(...base);
  return fc.oneof(
    ...base,
    k('ahead_ok', fc.integer({ min: 1, max: SKEW_MS }), 5),
    k('ahead_edge', fc.constant(SKEW_MS), 1),
    k('ahead_bad', fc.integer({ min: SKEW_MS + 1, max: 2 * 3_600_000 }), 1),
    k('year_2099', fc.constant(0), 1),
    k('before_2000', fc.constant(0), 1),
  );
}

/** Small indices most of the time, so a few accounts reach their caps. */
const accountArb = fc.oneof({ arbitrary: fc.nat(3), weight: 5 }, { arbitrary: fc.nat(40), weight: 1 });

function badIdArb(f: Families, oneIn: number): fc.Arbitrary<string | null> {
  if (!f.badIds) return fc.constant(null);
  return fc.oneof(
    { arbitrary: fc.constant(null), weight: oneIn - 1 },
    { arbitrary: fc.constantFrom(...BAD_ID_KINDS), weight: 1 },
  );
}

function contactSpecArb(f: Families): fc.Arbitrary<ContactSpec> {
  const decisions: ContactSpec['decision'][] = ['none', 'none', 'none', 'recent', 'odd'];
  if (f.badIds) decisions.push('bad');
  return fc
    .record({
      account: accountArb,
      channel: channelArb,
      outcome: outcomeArb,
      t: tsArbOf(f),
      tzMinutes: fc.constantFrom(0, 0, 0, 330, -360, 840, -720),
      promiseDays: fc.integer({ min: 0, max: 7 }),
      badId: badIdArb(f, 30),
      decision: fc.constantFrom(...decisions),
    })
    .map(({ t, ...r }) => ({ ...r, ...t }));
}

/** ISO text of `ms` written at `tzMinutes` east of UTC (`Z` for 0). */
export function isoAt(ms: number, tzMinutes: number): string {
  if (tzMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + tzMinutes * MINUTE).toISOString().slice(0, 23);
  const a = Math.abs(tzMinutes);
  return `${local}${tzMinutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayNo = (ms: number) => Math.floor(ms / DAY);

function rowOf(spec: ContactSpec, m: Model, now: number): ContactRowSpec {
  const accountId = spec.badId ? BAD_IDS[spec.badId]! : m.accounts[spec.account % m.accounts.length]!;
  const tsMs =
    spec.ts === 'past'
      ? now - spec.offsetMs
      : spec.ts === 'year_2099'
        ? Date.parse('2099-06-01T12:00:00Z')
        : spec.ts === 'before_2000'
          ? Date.parse('1999-12-31T23:59:59.999Z')
          : now + spec.offsetMs;
  const promise = spec.outcome === 'promise_to_pay';
  let decisionId: string | null = null;
  let invalid = spec.badId ? `account_id ${spec.badId}` : null;
  if (spec.decision === 'recent' && m.decisionIds.length)
    decisionId = m.decisionIds[m.decisionIds.length - 1]!;
  else if (spec.decision === 'odd') decisionId = `déc-😀-${m.tag}`;
  else if (spec.decision === 'bad') {
    decisionId = 'D\udbff';
    invalid ??= 'decision_id lone surrogate';
  }
  return {
    accountId,
    tsMs,
    invalid,
    json: {
      account_id: accountId,
      ts: isoAt(tsMs, spec.tzMinutes),
      channel: spec.channel,
      outcome: spec.outcome,
      promise_amount: promise ? 50 : null,
      promise_date: promise ? isoDay(tsMs + spec.promiseDays * DAY) : null,
      agent_id: spec.channel === 'call' ? 'agent-ø-7' : null,
      ...(decisionId === null ? {} : { decision_id: decisionId }),
    },
  };
}

/** Why a row is refused at server clock `now` (null: accepted). */
function refusal(r: ContactRowSpec, now: number): string | null {
  if (r.invalid) return r.invalid;
  if (r.tsMs > now + SKEW_MS) return `ts ${r.tsMs - now} ms ahead of the server`;
  if (r.tsMs < Y2000) return 'ts before 2000';
  return null;
}

// ---- the oracle --------------------------------------------------------------------------------------------------

interface Decided {
  account_id: string;
  treatment: string;
  channel: string | null;
  guardrails: string[];
}

/**
 * The rules a decision for `accountId` at `now` breaks, as the oracle counts the accepted contacts: a capped
 * channel at its cap, a call within the cooldown after a conversation, a call or legal while a promise is open,
 * or a cap guardrail named without the contacts to justify it (the service counting what was never accepted).
 */
export function brokenRules(m: Model, g: Guardrails, accountId: string, now: number, d: Decided): string[] {
  const hist = (m.counted.get(accountId) ?? []).filter((c) => c.ms <= now);
  const out: string[] = [];
  for (const ch of CAPPED) {
    const cap = g.caps[ch];
    const n = hist.filter((c) => c.channel === ch && c.ms > now - cap.days * DAY).length;
    if (d.channel === ch && n >= cap.attempts)
      out.push(
        `decision chose ${ch} with ${n} accepted ${ch} contacts in the last ${cap.days} days (cap ${cap.attempts})`,
      );
    if (d.guardrails.includes(`cap_${ch}`) && n < cap.attempts)
      out.push(
        `decision names cap_${ch} but only ${n} ${ch} contacts were accepted in the last ${cap.days} days`,
      );
  }
  const spoke = hist.filter(
    (c) => CONVERSATION.has(c.outcome) && c.ms > now - g.conversation_cooldown_days * DAY,
  );
  if (d.channel === 'call' && spoke.length)
    out.push(
      `decision chose a call ${((now - Math.max(...spoke.map((c) => c.ms))) / 3_600_000).toFixed(2)} h after a conversation (cooldown ${g.conversation_cooldown_days} days)`,
    );
  // Sound whatever the customer's zone: their local date is never after the UTC date.
  const open = hist.filter((c) => c.promiseDay !== null && dayNo(now) <= c.promiseDay + g.promise_grace_days);
  if (open.length && (d.channel === 'call' || d.treatment === 'human_call' || d.treatment === 'legal'))
    out.push(`decision chose ${d.treatment}/${d.channel} while a promise to pay is open`);
  return out;
}

// ---- commands ----------------------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<Model, World, false>;

/** Fails the command: tells the soak (which counts by `category`) and throws for fast-check to shrink. */
function fail(w: World, category: string, message: string): never {
  w.onViolation?.(category, message);
  throw new Error(`[${category}] ${message}`);
}

function expectThat(w: World, ok: boolean, category: string, message: () => string): void {
  if (!ok) fail(w, category, message());
}

const headersFor = (key: string | null, auth: string): Record<string, string> => ({
  ...bearer(auth),
  'content-type': 'application/json',
  ...(key === null ? {} : { 'idempotency-key': key }),
});

/**
 * Rows the ledger gained since the last call (contacts or decisions): one `counts()` per command, the previous
 * figures kept in the world (commands run one at a time, so nothing else writes in between).
 */
async function grown(w: World): Promise<{ contacts: number; decisions: number }> {
  const c = await w.ledger.counts();
  const prev = w.lastCounts ?? c;
  w.lastCounts = c;
  return { contacts: c.contacts - prev.contacts, decisions: c.decisions - prev.decisions };
}

function bump(w: World, kind: string): void {
  w.executed.set(kind, (w.executed.get(kind) ?? 0) + 1);
}

async function send(
  w: World,
  route: Sent['route'],
  text: string,
  key: string | null,
): Promise<LightMyRequestResponse> {
  return w.app.inject({
    method: 'POST',
    url: route,
    headers: headersFor(key, route === '/v1/score' ? PLAIN.score : PLAIN.contacts),
    payload: text,
  });
}

function parse(res: LightMyRequestResponse): unknown {
  try {
    return res.json();
  } catch {
    return res.body;
  }
}

/**
 * `body` without the `got` of field issues: a stored answer may leave out the refused values an invalid batch
 * item echoed (data minimisation: the ledger keeps no value it refused), so a replay is compared without them.
 */
function withoutGot(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body), (k, v) => (k === 'got' ? undefined : v));
}

const show = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…(${s.length})` : s);

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: World): Promise<void> {
    bump(w, 'advance');
    w.clock.now += this.ms;
  }
  toString = () => `advance(${this.ms} ms)`;
}

class AddAccount implements Cmd {
  constructor(readonly body: string) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, w: World): Promise<void> {
    bump(w, 'add_account');
    m.accounts.push(taggedId(this.body, m.tag));
  }
  toString = () => `addAccount(${show(this.body)})`;
}

/** Applies an answer to a contacts request to the model, checking it against the oracle's expectation. */
async function judgeContacts(
  m: Model,
  w: World,
  rows: ContactRowSpec[],
  res: LightMyRequestResponse,
  delta: number,
  what: string,
): Promise<void> {
  const now = w.clock.now;
  const refused = rows.map((r) => refusal(r, now)).filter((x) => x !== null);
  if (refused.length) {
    expectThat(
      w,
      res.statusCode === 400,
      'contacts: refused row not answered 400',
      () =>
        `${what}: expected 400 for (${refused.join('; ')}), got ${res.statusCode} ${res.body.slice(0, 300)}`,
    );
    expectThat(
      w,
      delta === 0,
      'contacts: refused request recorded rows',
      () => `${what}: a refused request recorded ${delta} contact(s)`,
    );
    return;
  }
  expectThat(
    w,
    res.statusCode === 201,
    'contacts: valid request not answered 201',
    () => `${what}: expected 201, got ${res.statusCode} ${res.body.slice(0, 300)}`,
  );
  expectThat(
    w,
    delta === rows.length,
    'contacts: ledger grew by other than the rows accepted',
    () => `${what}: ${rows.length} rows accepted, ledger grew by ${delta}`,
  );
  for (const r of rows) {
    const list = m.counted.get(r.accountId) ?? [];
    const json = r.json as { channel: string; outcome: string; promise_date: string | null };
    list.push({
      ms: Math.min(r.tsMs, now),
      channel: json.channel,
      outcome: json.outcome,
      promiseDay: json.promise_date === null ? null : dayNo(Date.parse(json.promise_date)),
    });
    m.counted.set(r.accountId, list);
  }
}

class PostContacts implements Cmd {
  constructor(
    readonly specs: ContactSpec[],
    readonly withKey: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, w: World): Promise<void> {
    bump(w, 'contacts');
    const rows = this.specs.map((s) => rowOf(s, m, w.clock.now));
    const text = JSON.stringify({ contacts: rows.map((r) => r.json) });
    const key = this.withKey ? `${m.tag}-k${++m.keySeq}` : null;
    if (!w.lastCounts) await grown(w);
    const res = await send(w, '/v1/contacts', text, key);
    const delta = (await grown(w)).contacts;
    await judgeContacts(m, w, rows, res, delta, `POST /v1/contacts ${text.slice(0, 400)}`);
    m.sent.push({
      route: '/v1/contacts',
      at: w.clock.now,
      key,
      text,
      status: res.statusCode,
      body: parse(res),
      rows,
    });
  }
  toString = () =>
    `contacts(${this.withKey ? 'key, ' : ''}${this.specs
      .map(
        (s) =>
          `${s.badId ? `BAD:${s.badId}` : `acct${s.account}`} ${s.channel}/${s.outcome} ${s.ts}${s.offsetMs ? `±${s.offsetMs}` : ''}${s.tzMinutes ? `@${s.tzMinutes}` : ''}${s.decision === 'none' ? '' : ` dec:${s.decision}`}`,
      )
      .join(' | ')})`;
}

/** What a score request should do: per item, the account id or the reason it is invalid. */
function judgeScore(
  m: Model,
  w: World,
  sent: Sent,
  res: LightMyRequestResponse,
  delta: number,
  what: string,
): void {
  const now = w.clock.now;
  const items = sent.items!;
  const first = new Map<string, number>();
  const expected = items.map((id, i) => {
    if (id === null || !isValidId(id)) return { ok: false as const, why: 'invalid account_id' };
    const f = first.get(id);
    if (f !== undefined) return { ok: false as const, why: `repeats index ${f}`, firstIndex: f };
    first.set(id, i);
    return { ok: true as const, id };
  });
  const okCount = expected.filter((e) => e.ok).length;
  const body = parse(res) as Record<string, unknown>;
  if (okCount === 0) {
    expectThat(
      w,
      res.statusCode === 400,
      'score: all-invalid request not answered 400',
      () => `${what}: no valid account, expected 400, got ${res.statusCode} ${res.body.slice(0, 300)}`,
    );
    expectThat(
      w,
      delta === 0,
      'score: refused request recorded decisions',
      () => `${what}: a refused score request recorded ${delta} decision(s)`,
    );
    return;
  }
  expectThat(
    w,
    res.statusCode === 200,
    'score: valid request not answered 200',
    () => `${what}: expected 200, got ${res.statusCode} ${res.body.slice(0, 300)}`,
  );
  expectThat(
    w,
    delta === okCount,
    'score: decisions recorded != distinct valid accounts',
    () =>
      `${what}: ${okCount} account(s) to decide (one per distinct account), ledger recorded ${delta} decision(s)`,
  );
  const results: (Record<string, unknown> & Decided)[] = sent.single
    ? [{ ...body, status: 'ok', index: 0 } as unknown as Record<string, unknown> & Decided]
    : (body.results as (Record<string, unknown> & Decided)[]);
  expectThat(
    w,
    Array.isArray(results) && results.length === items.length,
    'score: answer has the wrong number of items',
    () => `${what}: ${items.length} items sent, answer ${res.body.slice(0, 300)}`,
  );
  expected.forEach((e, i) => {
    const r = results[i]!;
    if (!e.ok) {
      expectThat(
        w,
        r.status === 'invalid',
        'score: invalid or repeated item was decided',
        () => `${what}: item ${i} (${e.why}) should be invalid, got ${JSON.stringify(r).slice(0, 300)}`,
      );
      if ('firstIndex' in e)
        expectThat(
          w,
          JSON.stringify(r.errors).includes(String(e.firstIndex)),
          'score: repeated item does not name the first index',
          () =>
            `${what}: item ${i} repeats item ${e.firstIndex} but its errors do not name it: ${JSON.stringify(r.errors)}`,
        );
      return;
    }
    expectThat(
      w,
      r.status === 'ok',
      'score: valid item not decided',
      () => `${what}: item ${i} should be decided, got ${JSON.stringify(r).slice(0, 300)}`,
    );
    expectThat(
      w,
      r.account_id === e.id,
      'score: answer names another account id',
      () =>
        `${what}: item ${i} answered for account ${JSON.stringify(r.account_id)}, sent ${JSON.stringify(e.id)}`,
    );
    const broken = brokenRules(m, w.guardrails, e.id, now, r);
    expectThat(
      w,
      broken.length === 0,
      'oracle: decision breaks a cap/cooldown/promise',
      () =>
        `${what}: account ${show(e.id)} at ${new Date(now).toISOString()}: ${broken.join('; ')} (decision ${JSON.stringify({ treatment: r.treatment, channel: r.channel, guardrails: r.guardrails })})`,
    );
    m.decisionIds.push(String(r.decision_id));
  });
}

/** Checks the stored decisions of a scored answer: each one the ledger holds names exactly the account sent. */
async function checkStoredDecisions(
  w: World,
  res: LightMyRequestResponse,
  single: boolean,
  what: string,
): Promise<void> {
  if (res.statusCode !== 200) return;
  const body = res.json() as { results?: { status: string; decision_id: string; account_id: string }[] };
  const items = single
    ? [res.json() as { status?: string; decision_id: string; account_id: string }]
    : (body.results ?? []);
  // One stored decision per request (the first decided item): enough to see ids stored as sent, at a third of the reads.
  for (const it of items.filter((x) => single || x.status === 'ok').slice(0, 1)) {
    const d = await w.ledger.getDecision(it.decision_id);
    expectThat(
      w,
      d !== null && d.account_id === it.account_id,
      'ledger: stored decision names another account id',
      () =>
        `${what}: decision ${it.decision_id} stored for ${JSON.stringify(d?.account_id)}, answered for ${JSON.stringify(it.account_id)}`,
    );
  }
}

/**
 * A score body for these ids (an invalid one by its kind). Every account has the same archive but its id, so only
 * the ledger moves its decisions; one in three has a low income, which the champion sends to legal (where a pending
 * promise must stop it), the others to a human call (where caps and the cooldown must stop it).
 */
function scoreText(m: Model, items: (string | null)[], single: boolean, badKinds: (string | null)[]): string {
  const archive = (id: string) => ({
    account: makeAccount({
      account_id: id,
      as_of_date: AS_OF,
      ...(m.accounts.indexOf(id) % 3 === 2 ? { monthly_income: 800 } : {}),
    }),
    installments: INSTALLMENTS,
    contacts: [],
  });
  const ids = items.map((id, i) => id ?? BAD_IDS[badKinds[i]!]!);
  return JSON.stringify(single ? archive(ids[0]!) : { accounts: ids.map(archive) });
}

/** One score request: one account (`single`) or a batch (repeats and invalid ids included). */
class Score implements Cmd {
  constructor(
    readonly items: { account: number; bad: string | null }[],
    readonly single: boolean,
    readonly withKey: boolean,
    /** Drop items whose account already appears (the `repeats` family off). */
    readonly distinct = false,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, w: World): Promise<void> {
    bump(w, this.single ? 'score' : 'score_batch');
    const seen = new Set<string>();
    const items = this.items.filter((it) => {
      if (!this.distinct) return true;
      const k = it.bad ? `bad:${it.bad}` : m.accounts[it.account % m.accounts.length]!;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const ids = items.map((it) => (it.bad ? null : m.accounts[it.account % m.accounts.length]!));
    const text = scoreText(
      m,
      ids,
      this.single,
      items.map((it) => it.bad),
    );
    const key = this.withKey ? `${m.tag}-k${++m.keySeq}` : null;
    const sent: Sent = {
      route: '/v1/score',
      at: w.clock.now,
      key,
      text,
      status: 0,
      body: null,
      items: ids,
      single: this.single,
    };
    if (!w.lastCounts) await grown(w);
    const res = await send(w, '/v1/score', text, key);
    const delta = (await grown(w)).decisions;
    const what = `POST /v1/score ${this.toString()}`;
    judgeScore(m, w, sent, res, delta, what);
    await checkStoredDecisions(w, res, this.single, what);
    sent.status = res.statusCode;
    sent.body = parse(res);
    m.sent.push(sent);
  }
  toString = () =>
    `score(${this.single ? 'single' : 'batch'}${this.withKey ? ', key' : ''}: ${this.items.map((it) => (it.bad ? `BAD:${it.bad}` : `acct${it.account}`)).join(' ')})`;
}

/** Sends an earlier request again: same key and body (a replay), without its key (a new attempt), or the key with another body. */
class Retry implements Cmd {
  constructor(
    readonly pick: number,
    readonly mode: 'same' | 'nokey' | 'other_body',
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.sent.length > 0;
  }
  async run(m: Model, w: World): Promise<void> {
    const prev = m.sent[this.pick % m.sent.length]!;
    // Without a key there is nothing to replay. A refused first answer (4xx), or one older than the retention, need
    // not be kept: the key may be free again, so another body under it is not a reuse, and the same body may run again.
    const kept = prev.status < 300 && w.clock.now - prev.at < RETENTION_MS;
    const mode = prev.key === null ? 'nokey' : this.mode === 'other_body' && !kept ? 'same' : this.mode;
    bump(w, `retry_${mode}`);
    const what = `retry(${mode}) of ${prev.route} first answered ${prev.status}: ${prev.text.slice(0, 300)}`;
    if (!w.lastCounts) await grown(w);
    const counts = async () => {
      const g = await grown(w);
      return prev.route === '/v1/score' ? g.decisions : g.contacts;
    };
    if (mode === 'same') {
      const res = await send(w, prev.route, prev.text, prev.key);
      const replayed = res.headers['idempotent-replayed'] === 'true';
      // An answer that need not be kept may run again (and is judged as a new request).
      if (!kept && !replayed) {
        await this.judgeAgain(m, w, prev, res, await counts(), what);
        // It ran again: a 2xx answer is now the one the key holds.
        if (res.statusCode < 300)
          Object.assign(prev, { at: w.clock.now, status: res.statusCode, body: parse(res) });
        return;
      }
      const delta = await counts();
      expectThat(
        w,
        delta === 0,
        'idempotency: replay recorded again',
        () => `${what}: a replay (same key, same body) recorded ${delta} row(s) again`,
      );
      expectThat(
        w,
        res.statusCode === prev.status,
        'idempotency: replay answered another status',
        () => `${what}: replay answered ${res.statusCode}, first answer was ${prev.status}`,
      );
      expectThat(
        w,
        replayed,
        'idempotency: replay without Idempotent-Replayed',
        () => `${what}: replay without 'Idempotent-Replayed: true' (headers ${JSON.stringify(res.headers)})`,
      );
      expectThat(
        w,
        JSON.stringify(withoutGot(parse(res))) === JSON.stringify(withoutGot(prev.body)),
        'idempotency: replay body differs',
        () =>
          `${what}: replay body ${res.body.slice(0, 300)} differs from the first ${JSON.stringify(prev.body).slice(0, 300)}`,
      );
      return;
    }
    if (mode === 'other_body') {
      // A different body under the same key: the first request's rows (or accounts) plus one more, valid now.
      const other =
        prev.route === '/v1/contacts'
          ? JSON.stringify({
              contacts: [
                ...(JSON.parse(prev.text) as { contacts: unknown[] }).contacts,
                {
                  account_id: m.accounts[0],
                  ts: new Date(w.clock.now).toISOString(),
                  channel: 'email',
                  outcome: 'delivered',
                  promise_amount: null,
                  promise_date: null,
                  agent_id: null,
                },
              ],
            })
          : // The first body inside a batch (a single) or with one more account (a batch): never the same text.
            JSON.stringify({
              accounts: prev.single
                ? [JSON.parse(prev.text)]
                : [
                    ...(JSON.parse(prev.text) as { accounts: unknown[] }).accounts,
                    JSON.parse(scoreText(m, [m.accounts[0]!], true, [null])),
                  ],
            });
      const res = await send(w, prev.route, other, prev.key);
      const delta = await counts();
      expectThat(
        w,
        res.statusCode === 422 && (parse(res) as { error?: string }).error === 'idempotency_key_reused',
        'idempotency: key reuse with another body not 422',
        () =>
          `${what}: same key with another body should be 422 idempotency_key_reused, got ${res.statusCode} ${res.body.slice(0, 300)}`,
      );
      expectThat(
        w,
        delta === 0,
        'idempotency: key reuse recorded rows',
        () => `${what}: a refused reuse of a key recorded ${delta} row(s)`,
      );
      return;
    }
    // No key: a new attempt, judged at today's clock.
    const res = await send(w, prev.route, prev.text, null);
    await this.judgeAgain(m, w, prev, res, await counts(), what);
  }

  private async judgeAgain(
    m: Model,
    w: World,
    prev: Sent,
    res: LightMyRequestResponse,
    delta: number,
    what: string,
  ): Promise<void> {
    if (prev.route === '/v1/contacts') await judgeContacts(m, w, prev.rows!, res, delta, what);
    else {
      judgeScore(m, w, { ...prev, key: null }, res, delta, what);
      await checkStoredDecisions(w, res, prev.single === true, what);
    }
  }

  toString = () => `retry(${this.mode}, #${this.pick})`;
}

/** Compares what the ledger holds for the run's accounts with what the oracle accepted: count, instants, exact ids. */
class Audit implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, w: World): Promise<void> {
    bump(w, 'audit');
    const stored = await w.ledger.contactsFor(m.accounts, 0);
    for (const id of m.accounts) {
      const want = (m.counted.get(id) ?? []).map((c) => c.ms).sort((a, b) => a - b);
      const got = (stored.get(id) ?? []).map((c) => Date.parse(c.ts)).sort((a, b) => a - b);
      expectThat(
        w,
        JSON.stringify(want) === JSON.stringify(got),
        'ledger: stored contacts differ from accepted (count or instants)',
        () =>
          `audit of ${show(id)}: accepted contacts at ${JSON.stringify(want.map((x) => new Date(x).toISOString()))}, ledger holds ${JSON.stringify(got.map((x) => new Date(x).toISOString()))}`,
      );
      for (const row of stored.get(id) ?? [])
        expectThat(
          w,
          row.account_id === id,
          'ledger: stored contact under another account id',
          () => `audit: a contact of ${show(id)} is stored as ${show(row.account_id)}`,
        );
    }
  }
  toString = () => 'audit()';
}

/** The command arbitraries, weighted toward contacts and scores; `families` leaves kinds of input out. */
export function commandArbs(families: Partial<Families> = {}): fc.Arbitrary<Cmd>[] {
  const f = { ...ALL_FAMILIES, ...families };
  const w = <T>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });
  const key = f.idempotency ? fc.boolean() : fc.constant(false);
  const item = fc.record({ account: accountArb, bad: badIdArb(f, 13) });
  const batch = fc.array(item, { minLength: 1, maxLength: 6 });
  const contacts = fc
    .record({ specs: fc.array(contactSpecArb(f), { minLength: 1, maxLength: 4 }), withKey: key })
    .map(({ specs, withKey }) => new PostContacts(specs, withKey));
  const single = fc
    .record({ item, withKey: key })
    .map(({ item, withKey }) => new Score([item], true, withKey));
  const modes: Retry['mode'][] = f.idempotency ? ['same', 'same', 'nokey', 'other_body'] : ['nokey'];
  return <fc.Arbitrary<Cmd>[]>[
    fc
      .oneof(
        w(fc.integer({ min: 1, max: 10 * MINUTE }), 6),
        w(fc.integer({ min: 1, max: 12 * 3_600_000 }), 2),
        w(fc.integer({ min: DAY, max: 8 * DAY }), 1),
      )
      .map((ms) => new Advance(ms)),
    (f.oddIds ? oddIdArb : fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/)).map((b) => new AddAccount(b)),
    contacts,
    contacts,
    single,
    single,
    fc
      .record({ items: batch, withKey: key })
      .map(({ items, withKey }) => new Score(items, false, withKey, !f.repeats)),
    fc
      .record({ pick: fc.nat(), mode: fc.constantFrom(...modes) })
      .map(({ pick, mode }) => new Retry(pick, mode)),
    fc.constant(new Audit()),
  ];
}

/** A fresh model for the next run of `w`: its own tag, the odd ids as its accounts. */
export function newModel(w: World, families: Partial<Families> = {}): Model {
  const tag = `#r${++w.runs}`;
  const odd = families.oddIds ?? true;
  return {
    tag,
    accounts: ODD_IDS.map((b, i) => taggedId(odd ? b : `acct-${i}`, tag)),
    counted: new Map(),
    sent: [],
    decisionIds: [],
    keySeq: 0,
  };
}

/** Total commands executed in `w`. */
export function executedTotal(w: World): number {
  let n = 0;
  for (const v of w.executed.values()) n += v;
  return n;
}
