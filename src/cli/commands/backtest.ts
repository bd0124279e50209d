import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { championDir, runBacktest } from '../../pipeline/backtest.ts';
import { modelStability } from '../../pipeline/stability.ts';
import { writeFileAtomic } from '../../registry/files.ts';
import { DEFAULT_POLICY_PATH } from '../../registry/policy-file.ts';
import { renderBacktestReport } from '../../report/backtest-html.ts';
import { intOption } from '../options.ts';
import { progress } from '../progress.ts';

interface BacktestCliOptions {
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

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description(
      'replay a policy (and a challenger) over the delinquent snapshots of a history: recovery, cost, net, cure rate by estimator',
    )
    .requiredOption(
      '--history <dir>',
      'history folder (accounts, installments, contacts; treatments, outcomes, truth when there)',
    )
    .option('--policy <file>', 'policy file', DEFAULT_POLICY_PATH)
    .option('--challenger <file>', 'a second policy, compared with paired bootstrap intervals')
    .option('--model <dir>', 'model artifact (default: the champion under models/)')
    .requiredOption('--out <dir>', 'folder for backtest.json and backtest.html')
    .option('--seed <n>', 'seed of the bootstrap', intOption('--seed', 0), 1)
    .option('--bootstrap <n>', 'bootstrap resamples', intOption('--bootstrap', 10, 10_000), 200)
    .option(
      '--response <dir>',
      'synthetic histories: evaluate a response artifact (train --response) on its held-out months instead: the learned expected-value policy, --policy (matrix), the logging policy and the oracle, valued by the truth and by doubly robust estimates',
    )
    .option(
      '--learned-policy <file>',
      'with --response: the expected-value policy that reads the fitted responses',
      'policies/learned-ev.yaml',
    )
    .option(
      '--call-slots <n>',
      "with --response: human-call slots per snapshot date (default: the logging policy's mean calls per date)",
      intOption('--call-slots', 0),
    )
    .action(async (o: BacktestCliOptions) => {
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
      if (acting) lines.push(`  model stability: ${acting} month(s) with PSI > 0.25 (act)`);
      lines.push(`  wrote ${o.out}/backtest.json, backtest.html, decisions.csv and decisions.parquet`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
