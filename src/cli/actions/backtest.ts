import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { championDir, runBacktest } from '../../pipeline/backtest.ts';
import { modelStability } from '../../pipeline/stability.ts';
import { writeFileAtomic } from '../../registry/files.ts';
import { renderBacktestReport } from '../../report/backtest-html.ts';
import { progress } from '../progress.ts';

/** What `repayrisk backtest` was given, parsed by commander. */
export interface BacktestCliOptions {
  history: string;
  policy: string;
  challenger?: string;
  model?: string;
  out: string;
  seed: number;
  bootstrap: number;
  response?: string;
  learnedPolicy: string;
  callSlots?: number;
}

async function evaluateResponseCli(o: BacktestCliOptions, response: string): Promise<void> {
  const bar = progress('backtest');
  // Loaded only when asked for, so every other command starts without the response pipeline.
  const { evaluateResponse } = await import('../../pipeline/response-evaluate.ts');
  const e = await evaluateResponse({
    history: o.history,
    model: o.model ?? championDir(),
    response,
    learnedPolicy: o.learnedPolicy,
    matrixPolicy: o.policy,
    ...(o.callSlots !== undefined ? { callSlots: o.callSlots } : {}),
    onProgress: (m) => bar.note(m),
  });
  bar.done();
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'response-evaluation.json'), `${JSON.stringify(e, null, 2)}\n`);
  const lines = [
    `${e.snapshots} held-out snapshots from ${e.from}, ${e.callSlots} call slots per date; net recovery per snapshot:`,
    `  ${'policy'.padEnd(9)} ${'truth'.padStart(8)} ${'doubly robust [95%]'.padStart(28)}`,
  ];
  for (const [name, v] of Object.entries(e.policies))
    lines.push(
      `  ${name.padEnd(9)} ${v.trueNet.toFixed(2).padStart(8)} ${v.dr.value.toFixed(2).padStart(10)} [${v.dr.low.toFixed(2)}, ${v.dr.high.toFixed(2)}]`,
    );
  lines.push(
    `  learned policy's share of the oracle's gain over logging: ${(e.learnedShareOfOracleGain * 100).toFixed(1)}%`,
  );
  lines.push(
    `  Spearman of predicted vs true incremental P(pay): ${e.ranks.map((r) => `${r.treatment} ${Number.isNaN(r.spearman) ? 'n/a' : r.spearman.toFixed(3)} (n=${r.snapshots})`).join(', ')}`,
  );
  lines.push(`  wrote ${o.out}/response-evaluation.json`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `repayrisk backtest`: replays the policy (and a challenger) and writes the JSON, HTML and per-snapshot decisions;
 * with `--response`, evaluates a response artifact against the truth instead.
 */
export async function backtestAction(o: BacktestCliOptions): Promise<void> {
  if (o.response) return evaluateResponseCli(o, o.response);
  const bar = progress('backtest');
  const started = performance.now();
  const report = await runBacktest({
    history: o.history,
    policy: o.policy,
    ...(o.challenger ? { challenger: o.challenger } : {}),
    ...(o.model ? { model: o.model } : {}),
    out: o.out,
    seed: o.seed,
    bootstrapSamples: o.bootstrap,
    stability: modelStability,
    renderHtml: renderBacktestReport,
    onProgress: (n) => bar.note(`${n.toLocaleString('en-US')} snapshots replayed`),
  });
  bar.done();
  const s = (performance.now() - started) / 1000;
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
  const lines = [
    `backtest of ${report.snapshots} snapshots in ${s.toFixed(1)} s (model ${report.model_version}); realised recovery ${fmt(report.realised.recovery)} per snapshot`,
  ];
  for (const p of report.policies)
    lines.push(
      `  ${p.role.padEnd(10)} ${p.policy_version}: recovery per snapshot simulation ${fmt(p.overall.recovery.simulation)}, IPW ${fmt(p.overall.recovery.ipw)}, DR ${fmt(p.overall.recovery.doubly_robust)}; cost ${fmt(p.overall.cost)}` +
        (p.overlap.warnings.length ? `  [${p.overlap.warnings.length} overlap warning(s)]` : ''),
    );
  const acting = report.stability.filter((r) => r.verdict === 'act').length;
  if (acting)
    lines.push(
      `  model stability: ${acting} month(s) with PSI > 0.25 against the model's training scores (act)`,
    );
  if (report.stability.some((r) => r.reference === 'none'))
    lines.push(
      "  model stability: PSI n/a, this history is not the model's training data and has too few snapshots of its training months",
    );
  lines.push(`  wrote ${o.out}/backtest.json, backtest.html, decisions.csv and decisions.parquet`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
