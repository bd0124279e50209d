// The HTML backtest report (DESIGN §8) on a small hand-made BacktestReport: one self-contained document with
// inline SVG charts, every figure labelled with its estimator, input text escaped, missing figures as "n/a".
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  BacktestReport,
  Estimate,
  Estimator,
  GroupFigures,
  PolicyBacktest,
  StabilityRow,
} from '../src/core/backtest/types.ts';
import type { Treatment } from '../src/core/schema/enums.ts';
import { renderBacktestReport } from '../src/report/backtest-html.ts';

const EVIL = '<script>alert("x")</script>';
const WARNING = 'legal: only 7 logged snapshots got this treatment where the policy chose it';

const est = (value: number, spread = 5): Estimate => ({ value, low: value - spread, high: value + spread });

function mix(
  hold: number,
  nudge: number,
  plan: number,
  call: number,
  legal: number,
): Record<Treatment, number> {
  return {
    hold,
    gentle_nudge: nudge,
    plan_offer: plan,
    human_call: call,
    legal,
    field_visit: 0,
    agency_placement: 0,
  };
}

function group(
  key: string,
  snapshots: number,
  recovery: number,
  dr: number | null,
  cost: number,
): GroupFigures {
  return {
    key,
    snapshots,
    treatment_mix: mix(0.2, 0.3, 0.2, 0.2, 0.1),
    recovery: { simulation: recovery, ipw: recovery * 0.95, doubly_robust: dr },
    cost,
    net: {
      simulation: recovery - cost,
      ipw: recovery * 0.95 - cost,
      doubly_robust: dr === null ? null : dr - cost,
    },
    cure_rate: {
      simulation: recovery / 400,
      ipw: recovery / 420,
      doubly_robust: dr === null ? null : dr / 410,
    },
  };
}

function heatmap(seed: number): PolicyBacktest['heatmap'] {
  const cells: PolicyBacktest['heatmap'] = [];
  for (let w = 1; w <= 10; w++) {
    for (let a = 1; a <= 10; a++) {
      const t: Treatment = w + a + seed > 14 ? 'gentle_nudge' : w > 5 ? 'plan_offer' : 'human_call';
      cells.push({ willingness_bin: w, ability_bin: a, snapshots: 10, treatment: t, share: 0.6 });
      cells.push({ willingness_bin: w, ability_bin: a, snapshots: 10, treatment: 'hold', share: 0.4 });
    }
  }
  return cells;
}

function policy(
  role: PolicyBacktest['role'],
  version: string,
  recovery: number,
  dr: number | null,
  warnings: string[],
): PolicyBacktest {
  const cost = 12.5;
  const drEst = dr === null ? null : est(dr);
  return {
    role,
    policy_version: version,
    snapshots: 1200,
    accounts: 400,
    overall: group('all', 1200, recovery, dr, cost),
    intervals: {
      recovery: { simulation: est(recovery), ipw: est(recovery * 0.95, 9), doubly_robust: drEst },
      net: {
        simulation: est(recovery - cost),
        ipw: est(recovery * 0.95 - cost, 9),
        doubly_robust: dr === null ? null : est(dr - cost),
      },
      cure_rate: {
        simulation: est(recovery / 400, 0.02),
        ipw: est(recovery / 420, 0.03),
        doubly_robust: dr === null ? null : est(dr / 410, 0.02),
      },
    },
    contacts_per_account: 2.4,
    guardrail_hits: { max_contacts_per_week: 31, quiet_hours: 4 },
    by_segment: [
      group('prime', 500, recovery + 20, dr, cost),
      group('subprime', 700, recovery - 15, dr, cost),
    ],
    by_bucket: ['1-30', '31-60', '61-90', '91-180', '181+'].map((b, i) =>
      group(b, 240, recovery - i * 25, dr === null ? null : dr - i * 25, cost),
    ),
    by_month: ['2024-01', '2024-02', '2024-03'].map((m, i) =>
      group(m, 400, recovery + i * 4, dr === null ? null : dr + i * 4, cost),
    ),
    heatmap: heatmap(role === 'champion' ? 0 : 3),
    overlap: { ess: 310.5, ess_share: 0.26, warnings },
    stage_transitions: {
      stages: ['reminder', 'call', 'visit', 'agency_or_legal'],
      staged: role === 'champion',
      by_month: [
        { month: '2024-02', from: 0, to: 1, accounts: 17 },
        { month: '2024-03', from: 1, to: 2, accounts: role === 'champion' ? 9 : 0 },
        { month: '2024-03', from: 0, to: 2, accounts: 2 },
      ],
      escalations: [
        { from: 0, to: 1, accounts: 17 },
        { from: 1, to: 2, accounts: role === 'champion' ? 9 : 0 },
        { from: 2, to: 3, accounts: 0 },
      ],
      skipped: 2,
    },
  };
}

function diff(value: number): Record<Estimator, Estimate | null> {
  return { simulation: est(value, 3), ipw: est(value, 12), doubly_robust: null };
}

const stability: StabilityRow[] = [
  { month: '2024-01', snapshots: 400, target: 'willingness', auc: 0.81, ks: 0.45, psi: 0, verdict: 'stable' },
  { month: '2024-01', snapshots: 400, target: 'ability', auc: 0.77, ks: 0.4, psi: 0, verdict: 'stable' },
  {
    month: '2024-02',
    snapshots: 380,
    target: 'willingness',
    auc: 0.8,
    ks: 0.44,
    psi: 0.12,
    verdict: 'watch',
  },
  // Too few labelled rows of a class that month: NaN in memory, null once through JSON.
  {
    month: '2024-02',
    snapshots: 380,
    target: 'ability',
    auc: Number.NaN,
    ks: Number.NaN,
    psi: 0.05,
    verdict: 'stable',
  },
  { month: '2024-03', snapshots: 410, target: 'willingness', auc: 0.79, ks: 0.43, psi: 0.31, verdict: 'act' },
  { month: '2024-03', snapshots: 410, target: 'ability', auc: 0.76, ks: 0.39, psi: 0.08, verdict: 'stable' },
];

const REPORT: BacktestReport = {
  history: 'data/history-2024',
  model_version: 'v92c4a10bc136',
  decision_time_utc: '09:00',
  snapshots: 1200,
  seed: 7,
  bootstrap_samples: 200,
  realised: { recovery: 140.25, cure_rate: 0.31 },
  estimators: { simulation: true, ipw: true, doubly_robust: true },
  policies: [
    policy('champion', 'collect-v3', 150, null, []),
    policy('challenger', EVIL, 162, 158, [WARNING]),
  ],
  difference: { recovery: diff(12), net: diff(10), cure_rate: diff(0.03) },
  stability,
};

/** The document with SVG/XHTML namespace declarations removed: what is left must reference nothing remote. */
const withoutNamespaces = (html: string) => html.replace(/\sxmlns(:\w+)?="[^"]*"/g, '');

describe('renderBacktestReport', () => {
  let html: string;
  beforeAll(async () => {
    // Through JSON, as backtest.json holds it: NaN becomes null.
    html = await renderBacktestReport(JSON.parse(JSON.stringify(REPORT)) as BacktestReport);
  }, 60_000);

  it('is one HTML document with six inline SVG charts', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html.match(/<html\b/g)).toHaveLength(1);
    expect(html.match(/<\/html>/g)).toHaveLength(1);
    expect(html.match(/<body\b/g)).toHaveLength(1);
    // recovery & cost, one heatmap per policy (2), cure curves, net by month, PSI by month.
    expect(html.match(/<svg\b/g)).toHaveLength(6);
    expect(html.match(/<\/svg>/g)).toHaveLength(6);
    for (const id of ['recovery-cost', 'heatmap-1', 'heatmap-2', 'cure', 'net-month', 'psi']) {
      expect(html).toContain(`<figure id="${id}"><svg`);
    }
  });

  it('references no external resource', () => {
    const local = withoutNamespaces(html);
    expect(local).not.toMatch(/https?:\/\//);
    expect(local).not.toMatch(/<link\b|<script\b|<img\b|<iframe\b|@import|url\((?!#)/i);
  });

  it('names every policy version and every estimator, and the facts of the run', () => {
    expect(html).toContain('collect-v3');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    for (const e of ['simulation', 'ipw', 'doubly_robust']) {
      expect(html).toContain(`<td>${e}</td>`);
      expect(html).toContain(`${e}: applied`);
    }
    for (const fact of ['data/history-2024', 'v92c4a10bc136', '09:00 UTC', '1,200', '200']) {
      expect(html).toContain(fact);
    }
  });

  it('escapes a script-looking policy version everywhere, charts included', () => {
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain('<script');
  });

  it('shows overlap warnings prominently, before the figures', () => {
    const box = html.indexOf('class="warnings"');
    expect(box).toBeGreaterThan(0);
    expect(box).toBeLessThan(html.indexOf('id="policies"'));
    expect(html).toContain(WARNING);
    // The 'act' stability month is flagged too.
    expect(html.slice(box, html.indexOf('</section>', box))).toContain('2024-03');
  });

  it('shows null and NaN figures as n/a, never as null or NaN', () => {
    expect(html).toMatch(/<td>Recovery per snapshot<\/td><td>doubly_robust<\/td><td class="n na">n\/a<\/td>/);
    expect(html).toMatch(
      /<td>2024-02<\/td><td>ability<\/td><td class="n">380<\/td><td class="n na">n\/a<\/td>/,
    );
    expect(html).not.toMatch(/\bNaN\b/);
    expect(html).not.toMatch(/\bnull\b/);
    expect(html).not.toMatch(/\bundefined\b/);
  });

  it('labels the challenger − champion differences with their estimator and interval', () => {
    expect(html).toContain('id="difference"');
    expect(html).toMatch(
      /<td>Recovery per snapshot<\/td><td>simulation<\/td><td class="n">\+12\.00<\/td><td class="n">\+9\.00 – \+15\.00<\/td>/,
    );
    expect(html).toContain('challenger higher');
    expect(html).toContain('interval includes 0');
  });

  it('has by-segment, by-bucket and stability tables', () => {
    for (const key of ['prime', 'subprime', '1-30', '181+']) expect(html).toContain(`<td>${key}</td>`);
    expect(html).toContain('<span class="badge act">act</span>');
  });

  it('has a stage-transition table per policy: escalations, skipped moves and moves by month', () => {
    const section = html.split('<h2 id="stages">')[1]!.split('<h2 ')[0]!;
    expect(section.match(/<h3>/g)).toHaveLength(2);
    expect(section).toContain("Stages: the policy's own stages. 2 move(s) skipped a stage.");
    expect(section).toContain('Stages: the ladder reminder → call → visit → agency_or_legal.');
    expect(section).toContain('<td>1 reminder → 2 call</td><td class="n">17</td>');
    expect(section).toContain('<td>2024-03</td><td>2 call</td><td>3 visit</td><td class="n">9</td>');
  });

  it('is deterministic, and drops the columns of an estimator that did not apply', async () => {
    expect(await renderBacktestReport(JSON.parse(JSON.stringify(REPORT)) as BacktestReport)).toBe(html);
    const noDr = await renderBacktestReport({
      ...REPORT,
      estimators: { simulation: true, ipw: true, doubly_robust: false },
      difference: null,
    });
    expect(noDr).toContain('doubly_robust: not applied');
    expect(noDr).not.toContain('<td>doubly_robust</td>');
    expect(noDr).not.toContain('id="difference"');
  }, 60_000);
});
