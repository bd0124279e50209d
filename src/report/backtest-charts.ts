/**
 * Charts of the HTML backtest report (DESIGN §8): pure functions from the report contract
 * (src/core/backtest/types.ts) to vega-lite specs, rendered to inline SVG by `renderSvg` (./charts.ts). Figures an
 * estimator does not provide (null) or that are undefined (NaN) are left out of the data, never drawn as zero.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import type { Estimator, PolicyBacktest, StabilityRow } from '../core/backtest/types.ts';
import { PSI_THRESHOLDS } from '../core/metrics/index.ts';
import { TREATMENTS } from '../core/schema/enums.ts';
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, PALETTE } from './charts.ts';

/** The model report's look, with legends wrapped to three columns (policies × treatments are many). */
const CONFIG: Config = { ...CHART_CONFIG, legend: { ...CHART_CONFIG.legend, columns: 3 } };

function frame(title: string, subtitle: string) {
  return { title: { text: title, subtitle }, config: CONFIG, width: CHART_WIDTH, height: CHART_HEIGHT };
}

/** Policy colours, in the order policies appear in the report. */
const POLICY_COLOURS = [PALETTE.model, PALETTE.negative, PALETTE.positive, PALETTE.reference];

/** Colour per treatment, from "do nothing" (light) to "legal" (dark red). */
const TREATMENT_COLOURS: Record<(typeof TREATMENTS)[number], string> = {
  hold: '#d0d7de',
  gentle_nudge: '#9ecae1',
  plan_offer: '#2ca25f',
  human_call: '#1f6fb2',
  legal: '#a40e26',
  field_visit: '#e6750f',
  agency_placement: '#6a3d9a',
};

/** The label a policy has in every chart and table: role and version, e.g. "champion · collect-v3". */
export function policyLabel(p: Pick<PolicyBacktest, 'role' | 'policy_version'>): string {
  return `${p.role} · ${p.policy_version}`;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function policyScale(policies: readonly PolicyBacktest[]) {
  const domain = policies.map(policyLabel);
  return { domain, range: domain.map((_, i) => POLICY_COLOURS[i % POLICY_COLOURS.length]!) };
}

/**
 * Mean recovery (one bar per applied estimator) and mean contact cost per snapshot, grouped by policy, with the
 * 95% bootstrap interval of each recovery as a whisker (cost has no interval in the contract: no whisker).
 * @param estimators - the estimators to draw (those the report says applied).
 */
export function recoveryCostChart(
  policies: readonly PolicyBacktest[],
  estimators: readonly Estimator[],
): TopLevelSpec {
  const values: { policy: string; measure: string; value: number; low?: number; high?: number }[] = [];
  for (const p of policies) {
    for (const e of estimators) {
      const iv = p.intervals.recovery[e];
      const v = iv?.value ?? p.overall.recovery[e];
      if (!finite(v)) continue;
      const row = { policy: policyLabel(p), measure: `recovery · ${e}`, value: v };
      values.push(iv && finite(iv.low) && finite(iv.high) ? { ...row, low: iv.low, high: iv.high } : row);
    }
    if (finite(p.overall.cost))
      values.push({ policy: policyLabel(p), measure: 'cost', value: p.overall.cost });
  }
  const measures = [...estimators.map((e) => `recovery · ${e}`), 'cost'];
  // Role and version on two lines, so a long version is not cut; policies in report order.
  const x = {
    field: 'policy',
    type: 'nominal' as const,
    sort: policies.map(policyLabel),
    axis: { title: null, labelAngle: 0, labelLimit: 400, labelExpr: "split(datum.label, ' · ')" },
  };
  const xOffset = { field: 'measure', type: 'nominal' as const, sort: measures };
  return {
    ...frame(
      'Recovery and cost by policy',
      'mean per snapshot, currency units · whiskers: 95% bootstrap interval',
    ),
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y: { field: 'value', type: 'quantitative', axis: { title: 'Per snapshot (currency units)' } },
          color: {
            field: 'measure',
            type: 'nominal',
            sort: measures,
            scale: {
              domain: measures,
              range: [PALETTE.positive, PALETTE.modelLight, '#6a51a3', PALETTE.negative].slice(
                0,
                measures.length,
              ),
            },
            legend: { title: null },
          },
        },
      },
      {
        transform: [{ filter: 'isValid(datum.low)' }],
        mark: { type: 'rule', stroke: PALETTE.model, strokeWidth: 1.5 },
        encoding: { x, xOffset, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
    ],
  };
}

/**
 * Treatment mix over the willingness × ability decile grid of one policy: each cell is coloured by the treatment
 * most of its snapshots got, its opacity that treatment's share.
 */
export function treatmentHeatmap(p: PolicyBacktest): TopLevelSpec {
  const best = new Map<string, PolicyBacktest['heatmap'][number]>();
  for (const c of p.heatmap) {
    const key = `${c.willingness_bin}/${c.ability_bin}`;
    const b = best.get(key);
    if (!b || c.share > b.share || (c.share === b.share && c.treatment < b.treatment)) best.set(key, c);
  }
  const values = [...best.values()]
    .filter((c) => c.snapshots > 0 && finite(c.share))
    .map((c) => ({ w: c.willingness_bin, a: c.ability_bin, treatment: c.treatment, share: c.share }));
  const bins = (field: string, title: string) => ({
    field,
    type: 'ordinal' as const,
    sort: 'ascending' as const,
    axis: { title, labelAngle: 0 },
  });
  return {
    ...frame(
      `Treatment mix · ${policyLabel(p)}`,
      'colour: most frequent treatment · opacity: its share of the cell',
    ),
    width: 300,
    height: 300,
    data: { values },
    mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
    encoding: {
      x: bins('a', 'Ability decile (P(cover | pay), low → high)'),
      y: { ...bins('w', 'Willingness decile (P(pay), low → high)'), sort: 'descending' },
      color: {
        field: 'treatment',
        type: 'nominal',
        scale: { domain: [...TREATMENTS], range: TREATMENTS.map((t) => TREATMENT_COLOURS[t]) },
        legend: { title: null },
      },
      opacity: {
        field: 'share',
        type: 'quantitative',
        scale: { domain: [0, 1], range: [0.15, 1] },
        legend: null,
      },
    },
  };
}

/** Lines of one figure per policy and estimator over an ordered key, for the cure and monthly-net charts. */
function perPolicyLines(
  policies: readonly PolicyBacktest[],
  estimators: readonly Estimator[],
  groups: (p: PolicyBacktest) => readonly { key: string; value: Record<Estimator, number | null> }[],
) {
  const values: { policy: string; estimator: string; key: string; value: number }[] = [];
  const keys: string[] = [];
  for (const p of policies) {
    for (const g of groups(p)) {
      if (!keys.includes(g.key)) keys.push(g.key);
      for (const e of estimators) {
        const v = g.value[e];
        if (finite(v)) values.push({ policy: policyLabel(p), estimator: e, key: g.key, value: v });
      }
    }
  }
  return { values, keys };
}

function lineEncoding(policies: readonly PolicyBacktest[], estimators: readonly Estimator[]) {
  return {
    color: {
      field: 'policy',
      type: 'nominal' as const,
      scale: policyScale(policies),
      legend: { title: null },
    },
    strokeDash: {
      field: 'estimator',
      type: 'nominal' as const,
      scale: { domain: [...estimators] },
      legend: { title: 'estimator' },
    },
  };
}

/**
 * Cure curves: mean P(overdue covered within 30 days) by delinquency bucket, one line per policy and estimator.
 * Buckets keep the order of the policies' `by_bucket` (youngest first).
 */
export function cureCurveChart(
  policies: readonly PolicyBacktest[],
  estimators: readonly Estimator[],
): TopLevelSpec {
  const { values, keys } = perPolicyLines(policies, estimators, (p) =>
    p.by_bucket.map((g) => ({ key: g.key, value: g.cure_rate })),
  );
  return {
    ...frame(
      'Cure rate by delinquency bucket',
      'mean P(overdue covered within 30 days) · line style: estimator',
    ),
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'key', type: 'ordinal', sort: keys, axis: { title: 'Days past due', labelAngle: 0 } },
      y: {
        field: 'value',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        axis: { title: 'Cure rate', format: '.0%' },
      },
      ...lineEncoding(policies, estimators),
    },
  };
}

/** Net recovery (recovery − cost, mean per snapshot) by snapshot month, one line per policy and estimator. */
export function netByMonthChart(
  policies: readonly PolicyBacktest[],
  estimators: readonly Estimator[],
): TopLevelSpec {
  const { values, keys } = perPolicyLines(policies, estimators, (p) =>
    p.by_month.map((g) => ({ key: g.key, value: g.net })),
  );
  return {
    ...frame(
      'Net recovery by month',
      'recovery − cost, mean per snapshot, currency units · line style: estimator',
    ),
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'key',
        type: 'ordinal',
        sort: [...keys].sort(),
        axis: { title: 'Snapshot month', labelAngle: -45 },
      },
      y: { field: 'value', type: 'quantitative', axis: { title: 'Net per snapshot (currency units)' } },
      ...lineEncoding(policies, estimators),
    },
  };
}

/**
 * PSI of the model's scores by month against its training scores, one line per target, over the credit-risk bands
 * (green below 0.1 stable, amber 0.1–0.25 watch, red above 0.25 act) with rules at 0.1 and 0.25.
 */
export function psiByMonthChart(rows: readonly StabilityRow[]): TopLevelSpec {
  const values = rows
    .filter((r) => finite(r.psi))
    .map((r) => ({ month: r.month, target: r.target, psi: r.psi }));
  const top = Math.max(0.35, ...values.map((v) => v.psi * 1.1));
  const bands = [
    { from: 0, to: PSI_THRESHOLDS.watch, band: 'stable' },
    { from: PSI_THRESHOLDS.watch, to: PSI_THRESHOLDS.act, band: 'watch' },
    { from: PSI_THRESHOLDS.act, to: top, band: 'act' },
  ];
  const y = { type: 'quantitative' as const, scale: { domain: [0, top], nice: false } };
  return {
    ...frame(
      'Score stability (PSI) by month',
      'against the training scores · < 0.1 stable, 0.1–0.25 watch, > 0.25 act',
    ),
    layer: [
      {
        data: { values: bands },
        mark: { type: 'rect', opacity: 0.8 },
        encoding: {
          y: { field: 'from', ...y, axis: { title: 'PSI' } },
          y2: { field: 'to' },
          color: {
            field: 'band',
            type: 'nominal',
            scale: { domain: ['stable', 'watch', 'act'], range: ['#dafbe1', '#fff8c5', '#ffebe9'] },
            legend: null,
          },
        },
      },
      {
        data: { values: [{ v: PSI_THRESHOLDS.watch }, { v: PSI_THRESHOLDS.act }] },
        mark: { type: 'rule', stroke: PALETTE.reference, strokeDash: [4, 4], strokeWidth: 1 },
        encoding: { y: { field: 'v', ...y } },
      },
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'month',
            type: 'ordinal',
            sort: 'ascending',
            axis: { title: 'Snapshot month', labelAngle: -45 },
          },
          y: { field: 'psi', ...y },
          color: {
            field: 'target',
            type: 'nominal',
            scale: { domain: ['willingness', 'ability'], range: [PALETTE.positive, PALETTE.negative] },
            legend: { title: null },
          },
        },
      },
    ],
    // The bands' colours and the targets' colours are different scales.
    resolve: { scale: { color: 'independent' } },
  };
}
