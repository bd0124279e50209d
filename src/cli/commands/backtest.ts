import type { Command } from 'commander';
import { runBacktest } from '../../pipeline/backtest.ts';
import { modelStability } from '../../pipeline/stability.ts';
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
    .action(async (o: BacktestCliOptions) => {
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
      lines.push(`  wrote ${o.out}/backtest.json and ${o.out}/backtest.html`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
