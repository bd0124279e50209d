// One path for the numbers (DESIGN §2, §7): the features and scores the batch path computes from a whole history
// equal, bit for bit, those the score API computes from an archive cut to the features' declared lookbacks; and
// no feature reads beyond its own declared window.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatures, FEATURE_COUNT, type SnapshotLike } from '../src/core/features/builder.ts';
import { ARCHIVE_LOOKBACK, FEATURES, type FeatureDef } from '../src/core/features/definitions.ts';
import { type ContactLike, type InstallmentLike, prepareHistory } from '../src/core/features/history.ts';
import { archiveWindowsText, type LookbackKey } from '../src/core/features/lookback.ts';
import { createRng } from '../src/core/random.ts';
import { archiveSchema, toArchive } from '../src/core/scoring/input.ts';
import { archiveFeatures } from '../src/core/scoring/score.ts';
import { predictCalibrated } from '../src/core/training/fit-target.ts';
import { generateWorld } from '../src/data/generate.ts';
import type { Row } from '../src/data/reader.ts';
import { loadSnapshotDataset, type SnapshotDataset } from '../src/data/snapshot-dataset.ts';
import { createApp } from '../src/http/app.ts';
import { buildOpenApi } from '../src/http/openapi.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { makeContact } from './helpers/account.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  MemoryLedger,
  PLAIN,
  scoreBody,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';
import { readAll } from './helpers/world.ts';

const DAY_MS = 86_400_000;
/** A world large enough for a few thousand delinquent snapshots with two years of history before the last. */
const WORLD = { accounts: 5000, months: 12, seed: 1204, start: '2024-01-01' };
const SAMPLE_SEED = 77;
const SAMPLE = 2500;

const dayOf = (iso: string) => Math.floor(Date.parse(iso.slice(0, 10)) / DAY_MS);
const isoOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** Indexes of `SAMPLE` distinct rows of `n`, drawn with a seeded partial shuffle. */
function sample(n: number, k: number, seed: number): number[] {
  const rng = createRng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = rng.int(i, n - 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, Math.min(k, n));
}

const byAccount = (rows: Row[]) => {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const id = r.account_id as string;
    const list = m.get(id);
    if (list) list.push(r);
    else m.set(id, [r]);
  }
  return m;
};

/** Names of the features of row `i` of `a` and row `j` of `b` that differ (Object.is: NaN equals NaN, 0 is not -0). */
function differing(a: Float64Array, i: number, b: Float64Array, j: number): string[] {
  return FEATURES.filter((_, k) => !Object.is(a[i * FEATURE_COUNT + k], b[j * FEATURE_COUNT + k])).map(
    (f) => f.name,
  );
}

/**
 * The archive a caller sends for a snapshot (DESIGN §7): the account row, its instalments due in the
 * ARCHIVE_LOOKBACK window before as_of_date and its contacts made in the window before as_of_date's midnight (UTC),
 * nothing older and nothing later, as JSON, without the account_id the archive does not need on its rows.
 */
function callerArchive(account: Row, installments: readonly Row[], contacts: readonly Row[]): unknown {
  const asOf = dayOf(account.as_of_date as string);
  const insFrom = asOf - ARCHIVE_LOOKBACK.installmentsDays;
  const conFrom = (asOf - ARCHIVE_LOOKBACK.contactsDays) * DAY_MS;
  const strip = ({ account_id: _id, ...r }: Row) => r;
  return JSON.parse(
    JSON.stringify({
      account: account,
      installments: installments
        .filter((r) => {
          const due = dayOf(r.due_date as string);
          return due >= insFrom && due < asOf;
        })
        .map(strip),
      contacts: contacts
        .filter((r) => {
          const ms = Date.parse(r.ts as string);
          return ms >= conFrom && ms < asOf * DAY_MS;
        })
        .map(strip),
    }),
  );
}

describe('batch and API paths give the same features and scores, bit for bit', () => {
  let ds: SnapshotDataset;
  let state: LiveState;
  let accounts: Map<string, Row[]>;
  let installments: Map<string, Row[]>;
  let contacts: Map<string, Row[]>;
  let picked: number[];
  let archives: unknown[];
  beforeAll(async () => {
    const dir = join(tmpDir(), 'world');
    await generateWorld({ ...WORLD, out: dir, format: 'csv' });
    [ds, state] = await Promise.all([loadSnapshotDataset(dir), committedState()]);
    accounts = byAccount(await readAll(join(dir, 'accounts.csv'), 'accounts'));
    installments = byAccount(await readAll(join(dir, 'installments.csv'), 'installments'));
    contacts = byAccount(await readAll(join(dir, 'contacts.csv'), 'contacts'));
    picked = sample(ds.x.rows, SAMPLE, SAMPLE_SEED);
    archives = picked.map((i) => {
      const id = ds.accountIds[i]!;
      const date = isoOf(ds.asOf[i]!);
      const account = accounts.get(id)!.find((a) => a.as_of_date === date)!;
      return callerArchive(account, installments.get(id) ?? [], contacts.get(id) ?? []);
    });
  }, 120_000);

  it('samples thousands of delinquent snapshots whose archives really are cut (older history exists)', () => {
    expect(picked.length).toBe(SAMPLE);
    // The cut must matter for the test to mean anything: many snapshots have instalments or contacts older
    // than the archive window that the batch path saw and the archive left out.
    let olderInstalments = 0;
    let olderContacts = 0;
    for (const i of picked) {
      const id = ds.accountIds[i]!;
      const asOf = ds.asOf[i]!;
      if (
        (installments.get(id) ?? []).some(
          (r) => dayOf(r.due_date as string) < asOf - ARCHIVE_LOOKBACK.installmentsDays,
        )
      )
        olderInstalments++;
      if (
        (contacts.get(id) ?? []).some(
          (r) => Date.parse(r.ts as string) < (asOf - ARCHIVE_LOOKBACK.contactsDays) * DAY_MS,
        )
      )
        olderContacts++;
    }
    expect(olderInstalments).toBeGreaterThan(SAMPLE / 10);
    expect(olderContacts).toBeGreaterThan(10);
  });

  it('features: loadSnapshotDataset (whole history) equals the cut archive as the API parses it', () => {
    const api = archiveFeatures(archives.map((a) => toArchive(archiveSchema.parse(a))));
    const bad: string[] = [];
    picked.forEach((i, j) => {
      const d = differing(ds.x.data, i, api.data, j);
      if (d.length) bad.push(`${ds.accountIds[i]} ${isoOf(ds.asOf[i]!)}: ${d.join(', ')}`);
    });
    expect(bad.slice(0, 10), `${bad.length} of ${picked.length} snapshots differ`).toEqual([]);
  });

  it('scores: the champion on the batch matrix equals POST /v1/score on the cut archives', async () => {
    const w = predictCalibrated(state.champion.willingness, ds.x);
    const ab = predictCalibrated(state.champion.ability, ds.x);
    const app = await createApp({
      live: new FakeLive(state),
      ledger: new MemoryLedger(),
      keys: testKeys(),
      now: () => Date.parse(T0),
      newId: counterIds('d'),
    });
    const results: { status: string; scores: { willingness: number; ability: number } }[] = [];
    // A batch decides an account once, so snapshots of one account go in different batches (of at most 1,000).
    const batches: number[][] = [];
    const held: Set<string>[] = [];
    picked.forEach((i, j) => {
      const id = ds.accountIds[i]!;
      let b = batches.findIndex((list, k) => list.length < 1000 && !held[k]!.has(id));
      if (b < 0) {
        b = batches.length;
        batches.push([]);
        held.push(new Set());
      }
      batches[b]!.push(j);
      held[b]!.add(id);
    });
    for (const batch of batches) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(PLAIN.score),
        payload: { accounts: batch.map((j) => archives[j]) } as InjectOptions['payload'],
      });
      expect(r.statusCode, r.body.slice(0, 500)).toBe(200);
      r.json().results.forEach((res: (typeof results)[number], k: number) => {
        results[batch[k]!] = res;
      });
    }
    await app.close();
    const bad: string[] = [];
    picked.forEach((i, j) => {
      const got = results[j]!;
      if (got.status !== 'ok') bad.push(`${ds.accountIds[i]}: ${got.status}`);
      else if (!Object.is(got.scores.willingness, w[i]) || !Object.is(got.scores.ability, ab[i]))
        bad.push(
          `${ds.accountIds[i]} ${isoOf(ds.asOf[i]!)}: willingness ${w[i]} vs ${got.scores.willingness}, ` +
            `ability ${ab[i]} vs ${got.scores.ability}`,
        );
    });
    expect(bad.slice(0, 10), `${bad.length} of ${picked.length} snapshots differ`).toEqual([]);
  }, 60_000);
});

// ---- no feature reads beyond its declared window -----------------------------------------------------------

/** A history row planted at `reach` days before the snapshot (instalments by due date, contacts by instant). */
interface Plant {
  what: string;
  table: LookbackKey;
  /** Days before the snapshot (its midnight for contacts); the row is inside a window of W days iff reach <= W. */
  reach: number;
  installments: InstallmentLike[];
  contacts: ContactLike[];
}

const SNAP_DAY = dayOf('2025-06-01');
const SNAPSHOT: SnapshotLike = {
  as_of_date: isoOf(SNAP_DAY),
  product: 'personal_loan',
  principal: 5000,
  credit_limit: null,
  apr: 0.2,
  months_on_book: 30,
  balance: 2500,
  amount_overdue: 300,
  installment_amount: 150,
  days_past_due: 40,
  age: 41,
  monthly_income: 2800,
  income_verified: true,
  employment_status: 'employed',
  preferred_channel: 'sms',
  phone_valid: true,
  email_valid: true,
  hardship_flag: false,
  dispute_open: false,
  bankruptcy_flag: false,
  deceased_flag: false,
  vulnerable_flag: false,
  cease_and_desist: false,
  complaint_open: false,
  legal_notice_date: null,
};

const instalment = (due: number, paid: Partial<InstallmentLike> = {}): InstallmentLike => ({
  due_date: isoOf(due),
  amount_due: 150,
  first_paid_date: null,
  paid_date: null,
  amount_paid: 0,
  ...paid,
});
const contact = (ms: number, over: Partial<ContactLike> = {}): ContactLike => ({
  ts: new Date(ms).toISOString(),
  channel: 'call',
  outcome: 'no_answer',
  promise_amount: null,
  promise_date: null,
  ...over,
});

/**
 * The histories plants are added to. `empty` has none, so recency features (days since the last contact) move
 * for a plant at any reach. `lived` has one instalment paid early 350 days back and one promise 100 days back
 * that was broken, so 12-month instalment features have a value to move from and a planted payment at the
 * promised time turns the promise kept.
 */
const BASES: Record<string, { installments: InstallmentLike[]; contacts: ContactLike[] }> = {
  empty: { installments: [], contacts: [] },
  lived: {
    installments: [
      instalment(SNAP_DAY - 345, {
        first_paid_date: isoOf(SNAP_DAY - 350),
        paid_date: isoOf(SNAP_DAY - 350),
        amount_paid: 150,
      }),
    ],
    contacts: [
      contact((SNAP_DAY - 100) * DAY_MS + 3_600_000, {
        outcome: 'promise_to_pay',
        promise_amount: 150,
        promise_date: isoOf(SNAP_DAY - 98),
      }),
    ],
  },
};

/** Every kind of instalment a feature reads, due `reach` days before the snapshot. */
function instalmentPlants(reach: number): Plant[] {
  const due = SNAP_DAY - reach;
  const p = (what: string, r: InstallmentLike): Plant => ({
    what: `instalment ${what}, due ${reach} d back`,
    table: 'installmentsDays',
    reach,
    installments: [r],
    contacts: [],
  });
  const paidOn = (day: number) => ({ first_paid_date: isoOf(day), paid_date: isoOf(day), amount_paid: 150 });
  return [
    p('unpaid', instalment(due)),
    p('paid a week early', instalment(due, paidOn(due - 7))),
    p('paid in full yesterday', instalment(due, paidOn(SNAP_DAY - 1))),
    p('part-paid', instalment(due, { first_paid_date: isoOf(due + 2), amount_paid: 40 })),
    p("paid when the lived base's promise was due", instalment(due, paidOn(SNAP_DAY - 99))),
  ];
}

/** Every kind of contact a feature reads, made `days` days (and `ms` milliseconds) before the snapshot's midnight. */
function contactPlants(days: number, ms = 0): Plant[] {
  const at = (SNAP_DAY - days) * DAY_MS - ms;
  const day = Math.floor(at / DAY_MS);
  const p = (what: string, c: ContactLike): Plant => ({
    what: `contact ${what}, ${days} d ${ms} ms back`,
    table: 'contactsDays',
    reach: days + ms / DAY_MS,
    installments: [],
    contacts: [c],
  });
  const promise = (by: number) =>
    contact(at, { outcome: 'promise_to_pay', promise_amount: 100, promise_date: isoOf(by) });
  return [
    p('sms delivered', contact(at, { channel: 'sms', outcome: 'delivered' })),
    p('call right party', contact(at, { outcome: 'right_party' })),
    p('call refused', contact(at, { outcome: 'refused' })),
    p('promise to pay in 2 days', promise(day + 2)),
    p('promise to pay in 20 days', promise(day + 20)),
  ];
}

function featuresWith(base: keyof typeof BASES, plant: Plant | null): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  const b = BASES[base]!;
  buildFeatures(
    SNAPSHOT,
    prepareHistory(
      [...b.installments, ...(plant?.installments ?? [])],
      [...b.contacts, ...(plant?.contacts ?? [])],
    ),
    out,
  );
  return out;
}

const windowOf = (f: FeatureDef, key: LookbackKey) => f.lookback[key] ?? 0;
const windows = (key: LookbackKey) => [
  ...new Set(FEATURES.map((f) => windowOf(f, key)).filter((d) => d > 0)),
];
const BASE_NAMES = Object.keys(BASES) as (keyof typeof BASES)[];

describe('no feature reads beyond its declared lookback', () => {
  // Plants at each declared window's edge (just inside, just outside: a day earlier for instalments, a
  // millisecond for contacts), and far beyond the archive.
  const plants = [
    ...windows('installmentsDays').flatMap((w) => [...instalmentPlants(w), ...instalmentPlants(w + 1)]),
    ...windows('contactsDays').flatMap((w) => [...contactPlants(w), ...contactPlants(w, 1)]),
    ...instalmentPlants(ARCHIVE_LOOKBACK.installmentsDays + 400),
    ...contactPlants(ARCHIVE_LOOKBACK.contactsDays + 400),
  ];

  it('declares a window for every history feature, and the archive is the largest', () => {
    for (const f of FEATURES)
      expect(Object.keys(f.lookback).length > 0, f.name).toBe(f.source !== 'snapshot');
    expect(ARCHIVE_LOOKBACK).toEqual({
      installmentsDays: Math.max(...windows('installmentsDays')),
      contactsDays: Math.max(...windows('contactsDays')),
    });
  });

  it('a row outside a feature’s window leaves it unchanged', () => {
    const bad: string[] = [];
    for (const b of BASE_NAMES) {
      const base = featuresWith(b, null);
      for (const p of plants) {
        const x = featuresWith(b, p);
        FEATURES.forEach((f, k) => {
          if (p.reach > windowOf(f, p.table) && !Object.is(x[k], base[k]))
            bad.push(
              `${f.name} (window ${windowOf(f, p.table)} d) moved ${base[k]} -> ${x[k]}: ${b} + ${p.what}`,
            );
        });
      }
    }
    expect(bad).toEqual([]);
  });

  it('a row just inside a feature’s window moves it (so the test above can fail)', () => {
    const unmoved: string[] = [];
    FEATURES.forEach((f, k) => {
      for (const key of ['installmentsDays', 'contactsDays'] as const) {
        const w = f.lookback[key];
        if (w === undefined) continue;
        const edge = key === 'installmentsDays' ? instalmentPlants(w) : contactPlants(w);
        const moves = BASE_NAMES.some((b) => {
          const base = featuresWith(b, null);
          return edge.some((p) => !Object.is(featuresWith(b, p)[k], base[k]));
        });
        if (!moves) unmoved.push(`${f.name} ${key} ${w}`);
      }
    });
    expect(unmoved).toEqual([]);
  });
});

describe('what callers are told to send is derived from the lookbacks', () => {
  const text = archiveWindowsText(ARCHIVE_LOOKBACK);

  it('names the largest windows', () => {
    expect(text.installments).toContain(`in the ${ARCHIVE_LOOKBACK.installmentsDays} days before`);
    expect(text.contacts).toContain(`from the ${ARCHIVE_LOOKBACK.contactsDays} days before`);
  });

  it('the OpenAPI document describes the archive and its two lists with it', () => {
    const doc = buildOpenApi({ maxBatch: 10, maxContacts: 10, bodyLimitBytes: 1 << 20, version: 'test' });
    const archive = (
      doc.components as {
        schemas: Record<
          string,
          { description?: string; properties?: Record<string, { description?: string }> }
        >;
      }
    ).schemas.AccountArchive!;
    expect(archive.description).toBe(text.archive);
    expect(archive.properties?.installments?.description).toBe(text.installments);
    expect(archive.properties?.contacts?.description).toBe(text.contacts);
  });

  it('docs/api.md quotes it', () => {
    const doc = readFileSync('docs/api.md', 'utf8');
    for (const line of [text.archive, text.installments, text.contacts]) expect(doc).toContain(line);
  });
});

describe('the service merges recorded contacts over the same window', () => {
  /** Scores `body` on a fresh app whose ledger first records `recorded` through POST /v1/contacts. */
  async function scoreWith(
    body: unknown,
    recorded: unknown[],
  ): Promise<{ willingness: number; ability: number }> {
    const app = await createApp({
      live: new FakeLive(await committedState()),
      ledger: new MemoryLedger(),
      keys: testKeys(),
      now: () => Date.parse(T0),
      newId: counterIds('d'),
    });
    const post = (url: string, payload: unknown) =>
      app.inject({
        method: 'POST',
        url,
        headers: bearer(PLAIN.all),
        payload: payload as InjectOptions['payload'],
      });
    if (recorded.length) expect((await post('/v1/contacts', { contacts: recorded })).statusCode).toBe(201);
    const r = await post('/v1/score', body);
    await app.close();
    expect(r.statusCode, r.body).toBe(200);
    return r.json().scores;
  }

  it('a contact recorded at the first instant of the archive window scores as if the archive carried it', async () => {
    const body = scoreBody();
    const asOf = dayOf(body.account.as_of_date);
    // The oldest contact the features read, far older than the policy's contact caps look back from now.
    const oldest = makeContact({
      ts: new Date((asOf - ARCHIVE_LOOKBACK.contactsDays) * DAY_MS).toISOString(),
      outcome: 'promise_to_pay',
      promise_amount: 150,
      promise_date: isoOf(asOf - ARCHIVE_LOOKBACK.contactsDays + 3),
    });
    const { account_id: _id, ...inArchive } = oldest;
    const sent = await scoreWith({ ...body, contacts: [inArchive] }, []);
    const recorded = await scoreWith(body, [oldest]);
    const without = await scoreWith(body, []);
    expect(recorded).toEqual(sent);
    // The contact matters, so the equality above is not two scores that ignore it.
    expect(sent).not.toEqual(without);
  });
});
