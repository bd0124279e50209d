// DESIGN §7 / issue 15: the write-ahead log is the ledger's durability point. A child process appends from several
// concurrent writers and is SIGKILLed mid-stream, three times over one log and one DuckDB file, each time with
// another loader pace: never loading (everything acknowledged lives only in the log), loading every millisecond
// (the kill lands among load transactions and segment removals), and every 50 ms. After each kill the ledger is
// reopened: every acknowledged record is there exactly once, and once loaded into DuckDB still exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDuckDbLedger } from '../src/ledger/duckdb.ts';
import { openWalLedger } from '../src/ledger/wal/ledger.ts';
import { tmpDir } from './helpers/tmp.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRITERS = 8;
const ACKS_BEFORE_KILL = 400;
const BUDGET_MS = 15_000;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** Runs the writer child until ACKS_BEFORE_KILL acknowledgements (or the budget), SIGKILLs it, returns its acks. */
async function runAndKill(db: string, wal: string, round: number, loadDelayMs: number): Promise<string[]> {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/helpers/wal-writer.ts'),
      db,
      wal,
      String(round),
      String(WRITERS),
      String(loadDelayMs),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  children.add(child);
  const acks: string[] = [];
  let stderr = '';
  let partial = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
  await new Promise<void>((resolve) => {
    const budget = setTimeout(resolve, BUDGET_MS);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.startsWith('ack ')) acks.push(l.slice(4));
      if (acks.length >= ACKS_BEFORE_KILL) {
        clearTimeout(budget);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(budget);
      resolve();
    });
  });
  child.kill('SIGKILL');
  const signal = await exited;
  children.delete(child);
  // An ack line cut by the kill is not an ack: only whole lines count.
  expect(signal, `the writer died on its own: ${stderr}`).toBe('SIGKILL');
  expect(acks.length, stderr).toBeGreaterThan(0);
  return acks;
}

describe('write-ahead ledger across SIGKILL', () => {
  it('keeps every acknowledged record exactly once, whether it was in the log only, being loaded, or loaded', async () => {
    const dir = tmpDir('repayrisk-wal-crash-');
    const db = join(dir, 'ledger.duckdb');
    const wal = join(dir, 'wal');
    const acked: string[] = [];
    const notes: string[] = [];
    let total = 0;
    for (const [round, loadDelayMs] of [
      [1, 3_600_000],
      [2, 1],
      [3, 50],
    ] as const) {
      const acks = await runAndKill(db, wal, round, loadDelayMs);
      acked.push(...acks);
      const notices: string[] = [];
      const ledger = await openWalLedger(await openDuckDbLedger(db), wal, {
        loadDelayMs: 3_600_000,
        onNotice: (m) => notices.push(m),
      });
      const replayed = ledger.unloaded();
      try {
        const contacts = (
          await Promise.all(
            Array.from({ length: WRITERS }, (_, w) =>
              ledger.contactHistory({
                accountId: `acc-w${w}`,
                sinceMs: null,
                untilMs: null,
                limit: 1_000_000,
                before: null,
              }),
            ),
          )
        ).flat();
        const decisions = (
          await Promise.all(
            Array.from({ length: WRITERS }, (_, w) =>
              ledger.decisionHistory({
                accountId: `acc-w${w}`,
                sinceMs: null,
                untilMs: null,
                limit: 1_000_000,
                before: null,
              }),
            ),
          )
        ).flat();
        const reviews = [
          ...(await ledger.reviewEvents(Array.from({ length: WRITERS }, (_, w) => `acc-w${w}`))).values(),
        ].flat();
        const ids = [
          ...contacts.map((c) => `c ${c.contact_id}`),
          ...decisions.map((d) => `d ${d.decision_id}`),
          ...reviews.map((r) => `r ${r.event_id}`),
        ];
        // Exactly once: no id twice, and counts agree with what the reads list.
        expect(new Set(ids).size).toBe(ids.length);
        expect(await ledger.counts()).toEqual({ decisions: decisions.length, contacts: contacts.length });
        // Nothing acknowledged is missing (a record may be there unacknowledged: its sync ended, the ack line
        // never left).
        const have = new Set(ids);
        expect(acked.filter((a) => !have.has(a))).toEqual([]);
        // Every contact's stored answer came back with it.
        for (const c of contacts.filter((_, i) => i % 25 === 0))
          expect(
            (await ledger.getAnswer('crash POST /v1/contacts', `k-${c.contact_id.slice(2)}`))?.body,
          ).toBe(JSON.stringify({ contact_ids: [c.contact_id] }));
        expect(await ledger.callSlotsUsed(T0)).toEqual(new Map([['east', decisions.length]]));
        // Review requests (a record type of their own) came back with their stored answers too.
        expect(reviews.length).toBeGreaterThan(0);
        for (const r of reviews.filter((_, i) => i % 10 === 0))
          expect(
            (await ledger.getAnswer('crash POST /v1/accounts/:id/human-review', `k-${r.event_id.slice(2)}`))
              ?.body,
          ).toBe(JSON.stringify({ event_id: r.event_id }));
        total = ids.length;
        if (round === 1) expect(replayed).toBeGreaterThan(0); // nothing had been loaded: all from the log
        notes.push(
          `round ${round} (load every ${loadDelayMs} ms): ${acks.length} acks before SIGKILL; reopened with ${replayed} logged operations not yet in DuckDB; ${ids.length} records in all${notices.length ? `; ${notices.join('; ')}` : ''}`,
        );
      } finally {
        await ledger.close(); // loads the rest into DuckDB
      }
      // DuckDB alone, after the load: the same records once each.
      const store = await openDuckDbLedger(db);
      try {
        const c = await store.counts();
        const reviews = [
          ...(await store.reviewEvents(Array.from({ length: WRITERS }, (_, w) => `acc-w${w}`))).values(),
        ].flat();
        expect(new Set(reviews.map((r) => r.event_id)).size).toBe(reviews.length);
        expect(c.decisions + c.contacts + reviews.length).toBe(total);
        for (const a of acked.filter((_, i) => i % 10 === 0).filter((a) => a.startsWith('d ')))
          expect((await store.getDecision(a.slice(2)))?.decision_id).toBe(a.slice(2));
      } finally {
        await store.close();
      }
    }
    process.stdout.write(`[wal-crash] ${notes.join('\n[wal-crash] ')}\n`);
  }, 120_000);
});
