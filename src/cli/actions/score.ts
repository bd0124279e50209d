import { RepayriskError } from '../../core/errors.ts';
import { TREATMENTS } from '../../core/schema/enums.ts';
import {
  type BookInput,
  type BookSummary,
  bookFormat,
  loadBatchState,
  scoreBook,
} from '../../pipeline/score-book.ts';
import { scoreTable } from '../../pipeline/table.ts';
import { progress } from '../progress.ts';

/** What `repayrisk score` was given, parsed by commander. */
export interface ScoreOptions {
  model?: string;
  table?: string;
  history?: string;
  accounts?: string;
  out: string;
  columns?: string[];
  na?: string[];
  policy?: string;
  now?: number;
  asOf?: string;
  callSlots?: number;
  /** --store FILE, or false for --no-store. */
  store?: string | false;
}

/**
 * `repayrisk score`: a book (`--history` or `--accounts`) scored and decided, or a feature table scored.
 * @throws RepayriskError `invalid_argument` for a wrong combination of options, `invalid_data` when any account
 * was invalid (the others are still scored).
 */
export async function scoreAction(o: ScoreOptions): Promise<void> {
  const input = checkCombination(o);
  if (input === 'table') {
    const n = await scoreTable({
      model: o.model!,
      table: o.table!,
      out: o.out,
      columns: o.columns,
      na: o.na,
    });
    process.stdout.write(`scored ${n} rows -> ${o.out}\n`);
    return;
  }
  const state = await loadBatchState({ model: o.model, policy: o.policy });
  const bar = progress('score');
  const summary = await scoreBook({
    state,
    input,
    out: o.out,
    now: o.now,
    slots: o.callSlots === undefined ? undefined : { kind: 'total', slots: o.callSlots },
    onProgress: (done, total, unit) => bar.update(done, total, unit),
    onNote: (m) => bar.note(m),
    // On a terminal, clear the progress line first so the message stands on its own line.
    onInvalid: (m) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${m}\n`),
  });
  bar.done();
  process.stdout.write(`${summaryLine(summary)}\n`);
  if (summary.invalid)
    throw new RepayriskError(
      'invalid_data',
      `${summary.invalid} ${'accounts' in input ? 'line' : 'snapshot'}(s) of ${'accounts' in input ? input.accounts : input.history} were invalid (named above); the others were scored`,
    );
}

/**
 * Exactly one of --table, --history, --accounts, and only the options that mode takes.
 * @throws RepayriskError `invalid_argument` naming what does not fit.
 */
function checkCombination(o: ScoreOptions): BookInput | 'table' {
  const given = (['table', 'history', 'accounts'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1)
    throw new RepayriskError(
      'invalid_argument',
      `score needs exactly one of --table FILE, --history DIR or --accounts FILE${given.length ? ` (got ${given.map((k) => `--${k}`).join(' and ')})` : ''}`,
    );
  const unused = (names: [string, unknown][], mode: string) => {
    const bad = names.filter(([, v]) => v !== undefined).map(([n]) => n);
    if (bad.length)
      throw new RepayriskError('invalid_argument', `${bad.join(', ')} cannot be used with ${mode}`);
  };
  if (o.table !== undefined) {
    unused(
      [
        ['--policy', o.policy],
        ['--now', o.now],
        ['--as-of', o.asOf],
        ['--call-slots', o.callSlots],
        ['--store/--no-store', o.store],
      ],
      '--table (they are for scoring a book with --history or --accounts)',
    );
    if (o.model === undefined)
      throw new RepayriskError(
        'invalid_argument',
        'score --table needs --model DIR (a model trained with train --table)',
      );
    return 'table';
  }
  unused([['--columns', o.columns]], `--${given[0]} (it is for --table)`);
  unused([['--na', o.na]], `--${given[0]} (it is for --table)`);
  bookFormat(o.out);
  if (o.accounts !== undefined) {
    unused([['--as-of', o.asOf]], '--accounts (each archive carries its own as_of_date)');
    unused([['--store/--no-store', o.store]], '--accounts (they are for --history)');
    return { accounts: o.accounts };
  }
  return {
    history: o.history!,
    ...(o.asOf === undefined ? {} : { asOf: o.asOf }),
    ...(o.store === undefined ? {} : { store: o.store }),
  };
}

/** `scored 1,693 accounts as of 2024-12-01 … -> out.parquet` */
function summaryLine(s: BookSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const of = s.asOf ? ` as of ${s.asOf}` : '';
  const skipped = s.asOf ? ` (skipped ${n(s.skipped)} without a snapshot that day)` : '';
  const invalid = s.invalid ? `, ${n(s.invalid)} invalid` : '';
  const mix = TREATMENTS.filter((t) => s.treatments[t] > 0)
    .map(
      (t) => `${t} ${n(s.treatments[t])} (${((100 * s.treatments[t]) / Math.max(1, s.scored)).toFixed(1)}%)`,
    )
    .join(', ');
  const calls =
    s.callCandidates === null
      ? ''
      : `; call slots went to ${n(s.callsAllocated ?? 0)} of ${n(s.callCandidates)} call and visit candidates`;
  const rate = s.seconds > 0 ? Math.round(s.scored / s.seconds) : s.scored;
  return `scored ${n(s.scored)} account${s.scored === 1 ? '' : 's'}${of}${skipped}${invalid} at ${s.now}: ${mix || 'none'}${calls}; ${s.seconds.toFixed(1)} s, ${n(rate)} rows/s; run ${s.runId} -> ${s.out}`;
}
