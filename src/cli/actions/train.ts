import { join } from 'node:path';
import { RepayriskError } from '../../core/errors.ts';
import { TREATMENTS } from '../../core/schema/enums.ts';
import type { TargetFit } from '../../core/training/fit-target.ts';
import type { TrainResponseResult } from '../../pipeline/response-train.ts';
import { trainTable } from '../../pipeline/table.ts';
import { trainSnapshots } from '../../pipeline/train-snapshots.ts';
import { readPointer } from '../../registry/artifact.ts';
import { progress } from '../progress.ts';
import type { TableOptionValues } from '../table-options.ts';

/** How probabilities are calibrated after fitting. */
export type Calibration = 'platt' | 'isotonic' | 'auto';

/** What `repayrisk train` was given, parsed by commander. */
export interface TrainOpts extends TableOptionValues {
  history?: string;
  response?: boolean;
  /** With --response: the scoring model whose scores the score lifts are fitted on. */
  model?: string;
  responseBags: number;
  responseWeighting: 'ipw' | 'none';
  allowAboveOracle?: boolean;
  kind: string;
  seed: number;
  ootMonths: number;
  calibration: Calibration;
  params?: Record<string, unknown>;
  name?: string;
  out: string;
}

/** One line per candidate: kind, out-of-time AUC / log-loss / ECE, and which was kept. */
export function formatFit(target: string, fit: TargetFit, oracle?: number): string {
  const lines = fit.candidates.map((c) => {
    const m = c.evaluation.outOfTime;
    const mark = c === fit.chosen ? '  <- kept' : '';
    return `  ${target.padEnd(12)} ${c.kind.padEnd(10)} OOT AUC ${m.auc.toFixed(4)}  log-loss ${m.logLoss.toFixed(4)}  ECE ${m.ece.toFixed(4)}  KS ${m.ks.toFixed(3)}${mark}`;
  });
  if (oracle !== undefined)
    lines.push(
      `  ${target.padEnd(12)} oracle     OOT AUC ${oracle.toFixed(4)} (the generator's true probabilities)`,
    );
  return lines.join('\n');
}

/** The response fit for the terminal: per-treatment out-of-time figures and the overlap table. */
export function formatResponse(r: TrainResponseResult): string {
  const f = (x: number | undefined) => (x === undefined ? '  n/a ' : x.toFixed(4));
  const lines = [
    `response models on ${r.snapshots.toLocaleString('en-US')} logged snapshots (out of time from ${r.outOfTimeFrom})`,
    '  treatment        logged (train/val/OOT)   OOT AUC pay  cover',
  ];
  for (const t of TREATMENTS) {
    const a = r.fit.arms[t];
    if (!a) {
      lines.push(`  ${t.padEnd(16)} no response: ${r.fit.notFitted[t] ?? 'not fitted'}`);
      continue;
    }
    const rows = `${a.rows.train}/${a.rows.validation}/${a.rows.outOfTime}`;
    lines.push(`  ${t.padEnd(16)} ${rows.padEnd(24)} ${f(a.pay?.auc)}  ${f(a.cover?.auc)}`);
  }
  lines.push('  overlap (share of logged snapshots per treatment; * = response used there):');
  // Each column as wide as its treatment's name (agency_placement is 16), at least 12, one space between.
  const width = TREATMENTS.map((t) => Math.max(12, t.length) + 1);
  lines.push(
    `  ${'days past due'.padEnd(14)} ${'n'.padStart(7)}  ${TREATMENTS.map((t, k) => t.padStart(width[k]!)).join('')}`,
  );
  for (const row of r.fit.overlap) {
    const cells = TREATMENTS.map((t, k) =>
      `${(row.shares[t] * 100).toFixed(1)}%${row.supported.includes(t) ? '*' : ' '}`.padStart(width[k]!),
    ).join('');
    lines.push(`  ${row.cell.padEnd(14)} ${String(row.snapshots).padStart(7)}  ${cells}`);
  }
  return lines.join('\n');
}

/** The CHAMPION scoring model under a models root, or null. */
function championOf(root: string): string | null {
  const v = readPointer(root, 'repayrisk', 'CHAMPION');
  return v ? join(root, 'repayrisk', v) : null;
}

/**
 * `repayrisk train`: the two scoring models on a history, the response models (`--response`), or one model on a
 * feature table; prints each candidate's out-of-time figures and where the artifact went.
 * @throws RepayriskError `invalid_argument` for a wrong combination of options.
 */
export async function trainAction(o: TrainOpts): Promise<void> {
  const bar = progress('train');
  const say = (m: string) => bar.note(m);
  if (o.response && (!o.history || o.table))
    throw new RepayriskError('invalid_argument', 'train --response needs --history DIR (and no --table)');
  if (o.response && o.history) {
    // Loaded only when asked for, so every other command starts without the response pipeline.
    const { trainResponse } = await import('../../pipeline/response-train.ts');
    const model = o.model ?? championOf(o.out);
    if (!model)
      process.stderr.write(
        `repayrisk: no scoring model (--model DIR, or a CHAMPION under ${o.out}/repayrisk): the responses are the treatment arms alone, without the per-treatment score lift\n`,
      );
    const r = await trainResponse({
      history: o.history,
      modelsRoot: o.out,
      ...(model ? { model } : {}),
      name: o.name ?? 'repayrisk-response',
      seed: o.seed,
      ootMonths: o.ootMonths,
      validationShare: 0.2,
      kind: o.kind === 'auto' ? 'gbdt' : o.kind,
      calibration: o.calibration,
      bags: o.responseBags,
      weighting: o.responseWeighting,
      onProgress: say,
    });
    bar.done();
    process.stdout.write(`${formatResponse(r)}\n`);
    process.stdout.write(`${r.existed ? 'identical artifact already present' : 'wrote'} ${r.dir}\n`);
  } else if (o.history && !o.table) {
    const r = await trainSnapshots({
      history: o.history,
      modelsRoot: o.out,
      name: o.name ?? 'repayrisk',
      kind: o.kind,
      seed: o.seed,
      ootMonths: o.ootMonths,
      validationShare: 0.2,
      calibration: o.calibration,
      params: o.params,
      allowAboveOracle: o.allowAboveOracle ?? false,
      onProgress: say,
    });
    bar.done();
    for (const w of r.warnings) process.stderr.write(`repayrisk: ${w}\n`);
    process.stdout.write(`trained on ${r.snapshots.toLocaleString('en-US')} delinquent snapshots\n`);
    process.stdout.write(`${formatFit('willingness', r.fits.willingness, r.oracleAuc.willingness)}\n`);
    process.stdout.write(`${formatFit('ability', r.fits.ability, r.oracleAuc.ability)}\n`);
    if (r.oracleAuc.willingness !== undefined || r.oracleAuc.ability !== undefined) {
      const above = Object.values(r.oracle)
        .flat()
        .filter((c) => c.above).length;
      process.stdout.write(
        above
          ? `leak guard: ${above} model(s) above the oracle by more than noise (overridden by --allow-above-oracle)\n`
          : 'leak guard: passed, no model above the oracle by more than noise\n',
      );
    }
    process.stdout.write(
      `${r.artifact.existed ? 'identical artifact already present' : 'wrote'} ${r.artifact.dir}\n`,
    );
    process.stdout.write(`report: ${r.artifact.dir}/report.html\n`);
  } else if (o.table && !o.history) {
    if (!o.target) throw new RepayriskError('invalid_argument', 'train --table needs --target COL');
    const r = await trainTable({
      table: o.table,
      target: o.target,
      positive: o.positive,
      id: o.id,
      categorical: o.categorical,
      columns: o.columns,
      na: o.na,
      maxCategories: o.maxCategories,
      modelsRoot: o.out,
      name: o.name ?? 'table',
      kind: o.kind,
      seed: o.seed,
      calibration: o.calibration,
      params: o.params,
      onProgress: say,
    });
    bar.done();
    process.stdout.write(
      `${formatFit(o.target, r.fit)}\n(holdout: a stratified 20% of rows, shown as OOT)\n`,
    );
    process.stdout.write(
      `${r.artifact.existed ? 'identical artifact already present' : 'wrote'} ${r.artifact.dir}\n`,
    );
  } else
    throw new RepayriskError('invalid_argument', 'train needs exactly one of --history DIR or --table FILE');
}
