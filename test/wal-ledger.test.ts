// The write-ahead ledger beyond the shared contract (test/ledger-contract.test.ts runs that): the loader loads
// exactly once when a crash falls between its store commit and the removal of the loaded segments; an answer leaves
// only after its record's sync; concurrent appends share syncs; a torn tail is cut and said at open.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContactRecord, ReviewEventRecord } from '../src/ledger/contract.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { nodeWalFs, type WalFs } from '../src/ledger/wal/fs.ts';
import { IdFilter } from '../src/ledger/wal/id-filter.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { tmpDir } from './helpers/tmp.ts';

const root = tmpDir('repayrisk-wal-ledger-');
let seq = 0;
const fresh = () => {
  const n = ++seq;
  return { db: join(root, `l-${n}.duckdb`), wal: join(root, `wal-${n}`) };
};
const T0 = Date.parse('2026-11-20T15:00:00.000Z');
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();

function contact(id: string, account = 'A', ms = T0): ContactRecord {
  return {
    contact_id: id,
    account_id: account,
    ts: new Date(ms).toISOString(),
    channel: 'call',
    outcome: 'no_answer',
    promise_amount: null,
    promise_date: null,
    agent_id: 'agent-7',
    recorded_at: new Date(ms + 1000).toISOString(),
    decision_id: null,
    reported_ts: null,
  };
}

describe('write-ahead ledger: loading', () => {
  it('loads every logged record into the store once, even when the segments could not be removed after the load', async () => {
    const { db, wal } = fresh();
    // Removing segments fails: the process "dies" after the store commit and before the log is trimmed.
    const stuck: WalFs = {
      ...nodeWalFs,
      unlink: async () => {
        throw Object.assign(new Error('EIO'), { code: 'EIO' });
      },
    };
    const notices: string[] = [];
    const a = await openWalLedger(await openDuckDbLedger(db), wal, {
      fs: stuck,
      loadDelayMs: 3_600_000,
      segmentBytes: 1, // a segment per append, so the first can be retired once loaded
      onNotice: (m) => notices.push(m),
    });
    await a.appendContacts([contact('c-1'), contact('c-2', 'A', T0 + 1)]);
    await a.appendContacts([contact('c-3', 'B')]);
    await a.drain();
    expect(notices).toEqual([
      expect.stringMatching(/^write-ahead log: cannot remove loaded segments from .*: EIO$/),
    ]);
    expect(a.unloaded()).toBe(0); // in the store, with the log position
    await a.close();
    expect(segments(wal)).toHaveLength(2); // the loaded records are still in the log

    const b = await openWalLedger(await openDuckDbLedger(db), wal, { loadDelayMs: 3_600_000 });
    try {
      expect(b.unloaded()).toBe(0); // skipped: the store says it loaded them
      expect(await b.counts()).toEqual({ decisions: 0, contacts: 3 });
      await b.appendContacts([contact('c-4')]);
      await b.drain();
      expect(await b.counts()).toEqual({ decisions: 0, contacts: 4 });
    } finally {
      await b.close();
    }
    const store = await openDuckDbLedger(db);
    try {
      expect(await store.counts()).toEqual({ decisions: 0, contacts: 4 });
    } finally {
      await store.close();
    }
    // Loaded and retired: only the segment the last session started remains.
    expect(segments(wal)).toHaveLength(1);
  });

  it('reloads a batch whose store transaction did not commit, and serves its records from the log meanwhile', async () => {
    const { db, wal } = fresh();
    const inner = await openDuckDbLedger(db);
    let failLoads = true;
    const flaky = Object.assign(Object.create(inner) as typeof inner, {
      loadWal: (...args: Parameters<typeof inner.loadWal>) =>
        failLoads ? Promise.reject(new Error('store down')) : inner.loadWal(...args),
    });
    const notices: string[] = [];
    const ledger = await openWalLedger(flaky, wal, {
      loadDelayMs: 1,
      retryMs: 20,
      onNotice: (m) => notices.push(m),
    });
    try {
      await ledger.appendContacts([contact('c-1')]);
      await new Promise((r) => setTimeout(r, 60));
      expect(notices.some((n) => /loading into the duckdb store failed, retrying: store down/.test(n))).toBe(
        true,
      );
      expect(ledger.unloaded()).toBe(1);
      expect((await ledger.contactsFor(['A'], T0)).get('A')).toHaveLength(1);
      failLoads = false;
      for (let i = 0; i < 100 && ledger.unloaded() > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(ledger.unloaded()).toBe(0);
      expect(await inner.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await ledger.close();
    }
  });
});

describe('write-ahead ledger: contact windows and call slots in memory', () => {
  it('answers from memory what the store plus every later append says, before and after loading', async () => {
    const { db, wal } = fresh();
    const inner = await openDuckDbLedger(db);
    let storeReads = 0;
    const counted = Object.assign(Object.create(inner) as typeof inner, {
      contactsFor: (...a: Parameters<typeof inner.contactsFor>) => {
        storeReads++;
        return inner.contactsFor(...a);
      },
      callSlotsUsed: (...a: Parameters<typeof inner.callSlotsUsed>) => {
        storeReads++;
        return inner.callSlotsUsed(...a);
      },
    });
    const ledger = await openWalLedger(counted, wal, { loadDelayMs: 3_600_000, cachedAccounts: 2 });
    const decision = (id: string, ms: number, team: string | null) => ({
      decision_id: id,
      decided_at: new Date(ms).toISOString(),
      account_id: 'A',
      as_of_date: '2026-11-19',
      model_version: 'm',
      policy_version: 'p',
      experiment_arm: null,
      willingness: 0.5,
      ability: 0.5,
      expected_recovery: 1,
      segment: 's',
      treatment: 'human_call',
      channel: 'call',
      earliest_contact_at: null,
      call_team: team,
      offer: null,
      reason_codes: [],
      reasons: [],
      guardrails: [],
      shadow: null,
      request_id: null,
      drivers: null,
      rule_pack: null,
      rule_pack_version: null,
    });
    const times = async (id: string, since: number) =>
      ((await ledger.contactsFor([id], since)).get(id) ?? []).map((c) => Date.parse(c.ts) - T0);
    try {
      await ledger.appendContacts([contact('c-1', 'A', T0 + 10), contact('c-b', 'B', T0)]);
      await ledger.appendDecisions([decision('d-1', T0, 'east')]);
      await ledger.drain(); // these three are in the store now
      await ledger.appendContacts([contact('c-2', 'A', T0 + 5)]); // in the log only
      expect(await times('A', T0)).toEqual([5, 10]);
      expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 1]]));
      const reads = storeReads;
      // Appended after the windows were filled: counted in memory, no store read.
      await ledger.appendContacts([contact('c-3', 'A', T0 + 7), contact('c-old', 'A', T0 - 5)]);
      await ledger.appendDecisions([decision('d-2', T0 + 1, 'east'), decision('d-3', T0 - 1, 'west')]);
      expect(await times('A', T0)).toEqual([5, 7, 10]);
      expect(await times('A', T0 + 6)).toEqual([7, 10]);
      expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 2]]));
      expect(storeReads).toBe(reads);
      // Further back than the window: read again, the earlier contact included.
      expect(await times('A', T0 - 10)).toEqual([-5, 5, 7, 10]);
      expect(storeReads).toBe(reads + 1);
      // Loading moves records to the store and changes nothing a read says.
      await ledger.drain();
      expect(await times('A', T0)).toEqual([5, 7, 10]);
      expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', 2]]));
      expect(await ledger.callSlotsUsed(T0 - 1)).toEqual(
        new Map([
          ['east', 2],
          ['west', 1],
        ]),
      );
      // Two accounts kept: reading B and C drops A's window; A is read from the store again, whole.
      expect(await times('B', T0)).toEqual([0]);
      expect(await times('C', T0)).toEqual([]);
      const before = storeReads;
      expect(await times('A', T0)).toEqual([5, 7, 10]);
      expect(storeReads).toBe(before + 1);
    } finally {
      await ledger.close();
    }
  });
});

describe('write-ahead ledger: review events (automated-decision rights)', () => {
  const review = (id: string, over: Partial<ReviewEventRecord> = {}): ReviewEventRecord => ({
    event_id: id,
    account_id: 'A',
    kind: 'requested',
    ts: new Date(T0).toISOString(),
    reported_ts: null,
    recorded_at: new Date(T0 + 1000).toISOString(),
    channel: 'web',
    case_ref: null,
    agent_id: null,
    outcome: null,
    ...over,
  });

  it('replays at open the review events the store lacks, skips those it loaded, and loads each once', async () => {
    const { db, wal } = fresh();
    const inner = await openDuckDbLedger(db);
    let failLoads = false;
    const flaky = Object.assign(Object.create(inner) as typeof inner, {
      loadWal: (...args: Parameters<typeof inner.loadWal>) =>
        failLoads ? Promise.reject(new Error('store down')) : inner.loadWal(...args),
    });
    // Segments cannot be removed: the loaded request stays in the log beside the unloaded resolution.
    const stuck: WalFs = {
      ...nodeWalFs,
      unlink: async () => {
        throw Object.assign(new Error('EIO'), { code: 'EIO' });
      },
    };
    const asked = review('r-1');
    const resolved = review('r-2', {
      kind: 'resolved',
      ts: new Date(T0 + 60_000).toISOString(),
      outcome: 'upheld',
      channel: null,
    });
    const a = await openWalLedger(flaky, wal, {
      fs: stuck,
      loadDelayMs: 3_600_000,
      segmentBytes: 1,
      onNotice: () => undefined,
    });
    await a.appendReviewEvents([asked]);
    await a.drain(); // in the store, with the log position; its segment stays
    failLoads = true;
    await a.appendReviewEvents([resolved]); // in the log only: the store is down until the process ends
    expect((await a.reviewEvents(['A'])).get('A')).toEqual([asked, resolved]);
    await a.close();

    const b = await openWalLedger(await openDuckDbLedger(db), wal, { loadDelayMs: 3_600_000 });
    try {
      expect(b.unloaded()).toBe(1); // the resolution, replayed; the request skipped (the store has it)
      expect((await b.reviewEvents(['A'])).get('A')).toEqual([asked, resolved]);
      // Ids the store holds are refused (the id filter is filled from the store, review events included).
      await expect(b.appendReviewEvents([review('r-1')])).rejects.toThrow(
        /event_id "r-1" is already in the ledger/,
      );
      await expect(b.appendReviewEvents([review('r-2')])).rejects.toThrow(
        /event_id "r-2" is already in the ledger/,
      );
      await b.drain();
    } finally {
      await b.close();
    }
    const store = await openDuckDbLedger(db);
    try {
      expect((await store.reviewEvents(['A'])).get('A')).toEqual([asked, resolved]);
    } finally {
      await store.close();
    }
  });
});

describe('write-ahead ledger: id filter', () => {
  it('never says "certainly not" of a key it was given, and rarely "maybe" of one it was not', () => {
    const f = new IdFilter(100_000);
    for (let i = 0; i < 100_000; i++) f.add(`c:${i}-\u00e9-${i * 7}`);
    for (let i = 0; i < 100_000; i++) expect(f.mayHold(`c:${i}-\u00e9-${i * 7}`)).toBe(true);
    let maybe = 0;
    for (let i = 0; i < 100_000; i++) if (f.mayHold(`d:${i}-\u00e9-${i * 7}`)) maybe++;
    expect(maybe / 100_000).toBeLessThan(0.03);
  });

  it('refuses an id the store held before the log was opened (the filter is filled from the store)', async () => {
    const { db, wal } = fresh();
    const store = await openDuckDbLedger(db);
    await store.appendContacts([contact('c-before')]);
    await store.close();
    const ledger = await openWalLedger(await openDuckDbLedger(db), wal);
    try {
      await expect(ledger.appendContacts([contact('c-new'), contact('c-before')])).rejects.toThrow(
        /contact_id "c-before" is already in the ledger/,
      );
      expect(await ledger.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await ledger.close();
    }
  });
});

describe('write-ahead ledger: stored answers', () => {
  it('never brings a pruned answer back into the store, whatever load batch its prune falls in', async () => {
    const { db, wal } = fresh();
    const answer = (key: string, createdMs: number, request: string) => ({
      scope: 'dialer POST /v1/contacts',
      key,
      fingerprint: 'ab'.repeat(32),
      request_id: request,
      created_at: new Date(createdMs).toISOString(),
      status: 201,
      body: '{}',
    });
    const DAY = 86_400_000;
    // One operation per load: the old answer is loaded in a batch of its own, before the prune's.
    const a = await openWalLedger(await openDuckDbLedger(db), wal, { loadDelayMs: 3_600_000, loadBatch: 1 });
    await a.appendContacts([contact('c-old')], answer('old', T0 - 2 * DAY, 'req-old'));
    await a.appendContacts([contact('c-new', 'A', T0 + 1)], answer('new', T0, 'req-new'));
    expect(await a.pruneAnswers(T0 - DAY)).toBe(1);
    await a.appendContacts([contact('c-again', 'A', T0 + 2)], answer('old', T0, 'req-again'));
    await a.drain();
    expect((await a.getAnswer('dialer POST /v1/contacts', 'old'))?.request_id).toBe('req-again');
    await a.close();
    // The log replayed from the start says the same (its prune is replayed in order).
    const store = await openDuckDbLedger(db);
    try {
      expect((await store.getAnswer('dialer POST /v1/contacts', 'old'))?.request_id).toBe('req-again');
      expect((await store.getAnswer('dialer POST /v1/contacts', 'new'))?.request_id).toBe('req-new');
      expect(await store.counts()).toEqual({ decisions: 0, contacts: 3 });
    } finally {
      await store.close();
    }
  });
});

describe('write-ahead ledger: durability of each answer', () => {
  it.each(['dsync', 'fdatasync'] as const)(
    '%s mode: resolves an append only after the sync covering its record, and groups concurrent appends',
    async (mode) => {
      const { db, wal } = fresh();
      // Each write names the contacts it carries; each write's end, each sync and each ack is an event in one list.
      // In dsync mode the write's end is the sync (its segment is O_DSYNC: the write returns once durable).
      const events: { e: 'write' | 'sync' | 'ack'; ids: string[] }[] = [];
      const dsyncFds = new Set<number>();
      const traced: WalFs = {
        ...nodeWalFs,
        openAppend: async (path, dsync) => {
          const fd = await nodeWalFs.openAppend(path, dsync);
          if (dsync) dsyncFds.add(fd);
          else dsyncFds.delete(fd);
          return fd;
        },
        write: async (fd, buf, offset, length) => {
          const ids = [
            ...buf
              .subarray(offset, offset + length)
              .toString('latin1')
              .matchAll(/"contact_id":"(c-\d+)"/g),
          ];
          events.push({ e: 'write', ids: ids.map((m) => m[1]!) });
          const n = await nodeWalFs.write(fd, buf, offset, length);
          if (dsyncFds.has(fd)) events.push({ e: 'sync', ids: [] });
          return n;
        },
        fdatasync: async (fd) => {
          await nodeWalFs.fdatasync(fd);
          events.push({ e: 'sync', ids: [] });
        },
      };
      const ledger = await openWalLedger(await openDuckDbLedger(db), wal, {
        fs: traced,
        loadDelayMs: 3_600_000,
        ...(mode === 'fdatasync' ? { sync: mode } : {}),
      });
      try {
        events.length = 0;
        await Promise.all(
          Array.from({ length: 64 }, (_, i) =>
            ledger
              .appendContacts([contact(`c-${i}`, `A-${i % 4}`)])
              .then(() => events.push({ e: 'ack', ids: [`c-${i}`] })),
          ),
        );
        // Each ack comes after the write that carried its record AND after a sync that ended after that write.
        for (const [i, ev] of events.entries()) {
          if (ev.e !== 'ack') continue;
          const w = events.findIndex((x) => x.e === 'write' && x.ids.includes(ev.ids[0]!));
          expect(w, ev.ids[0]).toBeGreaterThanOrEqual(0);
          const sync = events.findIndex((x, j) => j > w && x.e === 'sync');
          expect(sync, ev.ids[0]).toBeGreaterThan(w);
          expect(sync, ev.ids[0]).toBeLessThan(i);
        }
        const s = ledger.logStats();
        expect(s.appends).toBe(64);
        expect(s.syncs).toBeLessThan(16);
        expect(events.filter((x) => x.e === 'sync')).toHaveLength(s.syncs);
        expect(events.filter((x) => x.e === 'ack')).toHaveLength(64);
      } finally {
        await ledger.close();
      }
    },
  );

  it('opens after a torn tail, says what it cut, and keeps every acknowledged record before it', async () => {
    const { db, wal } = fresh();
    const a = await openWalLedger(await openDuckDbLedger(db), wal, { loadDelayMs: 3_600_000 });
    await a.appendContacts([contact('c-1')]);
    await a.appendContacts([contact('c-2')]);
    // Close the store without loading: the records live in the log only (as after a crash).
    const file = join(wal, segments(wal).at(-1)!);
    const size = statSync(file).size;
    await (a as unknown as { log: { close(): Promise<void> } }).log.close();
    await (a as unknown as { inner: { close(): Promise<void> } }).inner.close();
    truncateSync(file, size - 3);
    const notices: string[] = [];
    const b = await openWalLedger(await openDuckDbLedger(db), wal, { onNotice: (m) => notices.push(m) });
    try {
      expect(b.cut).toMatchObject({ file, bytes: size - 3 - b.cut!.offset, reason: 'torn' });
      expect(notices).toEqual([
        expect.stringMatching(
          new RegExp(
            `^write-ahead log: cut a damaged tail of \\d+ bytes from ${file} at byte \\d+ \\(torn: `,
          ),
        ),
      ]);
      expect((await b.contactsFor(['A'], T0)).get('A')).toHaveLength(1);
      expect(await b.counts()).toEqual({ decisions: 0, contacts: 1 });
    } finally {
      await b.close();
    }
  });
});
