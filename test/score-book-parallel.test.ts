// Batch scoring on worker threads (issue 12): the book a run writes while its workers score and decide is the
// book the one-thread run writes, byte for byte — every account, score, decision, id and order — with and
// without call capacity, on the committed sample world (generated: 2,000 customers, 1,693 accounts on the last date).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallSlots } from '../src/core/policy/capacity.ts';
import { type BookSummary, loadBatchState, scoreBook } from '../src/pipeline/score-book.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { tmpDir } from './helpers/tmp.ts';

describe('repayrisk score --history on worker threads', () => {
  const dir = tmpDir();
  const world = 'data-samples';
  let state: LiveState;

  beforeAll(async () => {
    state = await loadBatchState();
  });

  /** One run's output (CSV text) and summary; a small chunk so the book spans many chunks and both workers. */
  async function run(name: string, workers: number, slots: CallSlots | null, live = state) {
    const out = join(dir, `${name}.csv`);
    const notes: string[] = [];
    const summary = await scoreBook({
      state: live,
      input: { history: world },
      out,
      slots,
      workers,
      chunkSize: 97,
      onNote: (m) => notes.push(m),
    });
    return { text: readFileSync(out, 'utf8'), summary, notes };
  }

  const comparable = (s: BookSummary) => ({ ...s, out: '', seconds: 0, phases: null });

  for (const [label, slots] of [
    ['unlimited calls', null],
    ['call capacity shared book-wide', { kind: 'total', slots: 5 }],
  ] as const) {
    it(`writes the same book as one thread: ${label}`, async () => {
      const one = await run(`one-${slots ? 'cap' : 'free'}`, 0, slots);
      const two = await run(`two-${slots ? 'cap' : 'free'}`, 2, slots);
      // The workers really ran (a failed start falls back to this thread and says so).
      expect(two.notes.filter((n) => n.includes('did not start'))).toEqual([]);
      const lines = one.text.trim().split('\n');
      expect(lines.length - 1).toBe(one.summary.scored);
      expect(one.summary.scored).toBeGreaterThan(1000);
      expect(two.text).toBe(one.text);
      expect(comparable(two.summary)).toEqual(comparable(one.summary));
      // With capacity, the slots really were scarce: fewer than the candidates competing for them.
      if (slots) expect(two.summary.callsAllocated).toBeLessThan(two.summary.callCandidates!);
    }, 120_000);
  }

  it('scores on this thread, with the same answers, when the workers would load another policy than the one given', async () => {
    const one = await run('given-one', 0, null);
    // The state says it came from another file: the workers load that file, find it differs, and refuse.
    const two = await run('given-two', 2, null, {
      ...state,
      policyPath: 'policies/challenger-plan-first.yaml',
    });
    expect(two.notes.filter((n) => n.includes('did not start')).length).toBe(1);
    expect(two.text).toBe(one.text);
  }, 120_000);
});
