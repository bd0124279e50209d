/**
 * Charts of the HTML model report: pure functions from the metric shapes (src/core/metrics/types.ts) to
 * vega-lite specs, and `renderSvg`, which renders a spec to a standalone SVG string in Node (no canvas, no
 * network). Every chart uses the same palette, so positives and negatives have the same colour everywhere.
 */
import * as vega from 'vega';
import { type Config, compile, type TopLevelSpec } from 'vega-lite';
import type { CalibrationBin, HistogramBin, KsCurve, LiftRow, RocCurve } from '../core/metrics/types.ts';
import type { Contribution } from '../core/models/contract.ts';

/** Colours shared by every chart and by the HTML around them. */
export const PALETTE = {
  positive: '#1f6fb2',
  negative: '#e08214',
  model: '#2d3a4f',
  modelLight: '#a9b8cc',
  reference: '#9aa5b1',
} as const;

/** Plot-area width of a chart, in CSS pixels (axes, titles and legends come on top). */
export const CHART_WIDTH = 360;
/** Plot-area height of a chart, in CSS pixels; the importance chart grows with its number of bars instead. */
export const CHART_HEIGHT = 260;

const POSITIVES = 'Positives (label 1)';
const NEGATIVES = 'Negatives (label 0)';

/** Colour scale mapping the outcome field to the shared positive / negative colours. */
const OUTCOME_SCALE = { domain: [POSITIVES, NEGATIVES], range: [PALETTE.positive, PALETTE.negative] };

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Fixed config of every report chart: no randomness, no external resources, the system font stack. */
export const CHART_CONFIG: Config = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#d0d7de' },
  title: {
    fontSize: 14,
    fontWeight: 600,
    anchor: 'start',
    subtitleFontSize: 11,
    subtitleColor: '#57606a',
    offset: 8,
  },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: '#24292f',
    labelColor: '#24292f',
    gridColor: '#eaeef2',
    domainColor: '#8c959f',
    tickColor: '#8c959f',
  },
  // Without a canvas vega estimates text widths generously; a high label limit keeps legend labels whole.
  legend: {
    labelFontSize: 11,
    labelLimit: 400,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    orient: 'top',
    direction: 'horizontal',
  },
  line: { strokeWidth: 2 },
};

interface Frame {
  title: { text: string; subtitle?: string | string[] };
  config: Config;
  width: number;
  height: number;
}

function base(title: string, subtitle?: string | string[]): Frame {
  return {
    title: subtitle === undefined ? { text: title } : { text: title, subtitle },
    config: CHART_CONFIG,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
  };
}

/** A dashed y = x line from (0, 0) to (max, max), as a layer with its own data. */
function diagonal(max = 1) {
  return {
    data: {
      values: [
        { x: 0, y: 0 },
        { x: max, y: max },
      ],
    },
    mark: { type: 'line' as const, stroke: PALETTE.reference, strokeDash: [4, 4], strokeWidth: 1 },
    encoding: {
      x: { field: 'x', type: 'quantitative' as const },
      y: { field: 'y', type: 'quantitative' as const },
    },
  };
}

/**
 * Indices of the points worth drawing on a monotone curve: the first, the last, every index in `keep`, and
 * every point at least `step` (in axis units, max over the given series) away from the previous kept one.
 * ROC and KS curves carry one point per distinct score, which is thousands of invisible path segments.
 */
export function thinCurve(
  series: readonly (readonly number[])[],
  step: number,
  keep: readonly number[] = [],
): number[] {
  const n = Math.min(...series.map((s) => s.length));
  if (n === 0) return [];
  const forced = new Set(keep);
  const out = [0];
  let last = 0;
  for (let i = 1; i < n; i++) {
    const far = series.some((s) => Math.abs(s[i]! - s[last]!) >= step);
    if (i === n - 1 || forced.has(i) || far) {
      out.push(i);
      last = i;
    }
  }
  return out;
}

const pctAxis = (title: string) => ({ title, format: '.0%' });

/** A figure for a chart subtitle; an undefined metric (NaN) shows as an em dash. */
const num = (x: number, decimals = 3) => (Number.isFinite(x) ? x.toFixed(decimals) : '—');

/**
 * ROC curve of the out-of-time split with the chance diagonal.
 * @param auc shown in the subtitle; NaN omits it.
 */
export function rocChart(roc: RocCurve, auc: number): TopLevelSpec {
  const idx = thinCurve([roc.fpr, roc.tpr], 0.002);
  const values = idx.map((i) => ({ fpr: roc.fpr[i]!, tpr: roc.tpr[i]! }));
  return {
    ...base('ROC curve', `AUC ${num(auc)} · out-of-time`),
    layer: [
      diagonal(),
      {
        data: { values },
        mark: { type: 'line', stroke: PALETTE.model },
        encoding: {
          x: {
            field: 'fpr',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            axis: pctAxis('False-positive rate (% of negatives)'),
          },
          y: {
            field: 'tpr',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            axis: pctAxis('True-positive rate (% of positives)'),
          },
          order: { field: 'fpr', type: 'quantitative' },
        },
      },
    ],
  };
}

/** Index of the threshold nearest to `t` (thresholds ascending). */
function nearestIndex(thresholds: readonly number[], t: number): number {
  let best = 0;
  for (let i = 1; i < thresholds.length; i++) {
    if (Math.abs(thresholds[i]! - t) < Math.abs(thresholds[best]! - t)) best = i;
  }
  return best;
}

/**
 * KS curve: cumulative share of positives and of negatives with score ≤ threshold, with the KS gap drawn as a
 * vertical bar at the threshold where it is largest.
 */
export function ksChart(ks: KsCurve): TopLevelSpec {
  const n = ks.threshold.length;
  const at = n > 0 ? nearestIndex(ks.threshold, ks.atThreshold) : 0;
  const lo = n > 0 ? ks.threshold[0]! : 0;
  const hi = n > 0 ? ks.threshold[n - 1]! : 1;
  const span = hi - lo || 1;
  const scaled = ks.threshold.map((t) => (t - lo) / span);
  const idx = thinCurve([scaled, ks.cumPositives, ks.cumNegatives], 0.004, [at]);
  const values = idx.flatMap((i) => [
    { threshold: ks.threshold[i]!, share: ks.cumPositives[i]!, outcome: POSITIVES },
    { threshold: ks.threshold[i]!, share: ks.cumNegatives[i]!, outcome: NEGATIVES },
  ]);
  const yPos = ks.cumPositives[at] ?? 0;
  const yNeg = ks.cumNegatives[at] ?? 0;
  const gap = { threshold: ks.threshold[at] ?? ks.atThreshold, y: yPos, y2: yNeg, mid: (yPos + yNeg) / 2 };
  // Keep the KS label inside the plot: to the right of the bar unless the bar is in the right third.
  const labelLeft = (gap.threshold - lo) / span > 0.66;
  const x = {
    field: 'threshold',
    type: 'quantitative' as const,
    axis: { title: 'Score threshold (predicted probability)', format: '.2f' },
  };
  return {
    ...base('KS curve', `KS ${num(ks.ks)} at score ${num(ks.atThreshold)} · out-of-time`),
    layer: [
      {
        data: { values },
        mark: { type: 'line' },
        encoding: {
          x,
          y: {
            field: 'share',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            axis: pctAxis('Cumulative share with score ≤ threshold (%)'),
          },
          color: { field: 'outcome', type: 'nominal', scale: OUTCOME_SCALE, legend: { title: null } },
        },
      },
      {
        data: { values: [gap] },
        layer: [
          {
            mark: { type: 'rule', stroke: PALETTE.model, strokeWidth: 2 },
            encoding: { x, y: { field: 'y', type: 'quantitative' }, y2: { field: 'y2' } },
          },
          {
            mark: {
              type: 'text',
              align: labelLeft ? 'right' : 'left',
              dx: labelLeft ? -6 : 6,
              fontWeight: 600,
              fill: PALETTE.model,
              text: `KS ${num(ks.ks)}`,
            },
            encoding: { x, y: { field: 'mid', type: 'quantitative' } },
          },
        ],
      },
    ],
  };
}

/** Two to four round legend values in (0, max], e.g. 250 → [100, 200]; none for an empty chart. */
export function sizeLegendValues(max: number): number[] {
  if (!(max > 0)) return [];
  const magnitude = 10 ** Math.floor(Math.log10(max / 3));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 4)!;
  const out: number[] = [];
  for (let v = step; v <= max * (1 + 1e-9); v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

/**
 * Calibration plot: observed positive rate against mean predicted probability per bin, point area by the
 * bin's row count, with the perfect-calibration diagonal. Both axes share one range so the diagonal is 45°.
 */
export function calibrationChart(bins: readonly CalibrationBin[], ece: number): TopLevelSpec {
  const values = bins.map((b) => ({ predicted: b.meanPredicted, observed: b.observedRate, count: b.count }));
  const top = Math.max(0.1, ...values.flatMap((v) => [v.predicted, v.observed]).filter(Number.isFinite));
  const max = Math.min(1, Math.ceil(top * 10) / 10);
  const axisX = { field: 'predicted', type: 'quantitative' as const, scale: { domain: [0, max] } };
  const axisY = { field: 'observed', type: 'quantitative' as const, scale: { domain: [0, max] } };
  return {
    ...base('Calibration', `ECE ${num(ece)} · equal-count bins · out-of-time`),
    layer: [
      diagonal(max),
      {
        data: { values },
        layer: [
          {
            mark: { type: 'line', stroke: PALETTE.modelLight, strokeWidth: 1.5 },
            encoding: {
              x: { ...axisX, axis: pctAxis('Mean predicted probability (%)') },
              y: { ...axisY, axis: pctAxis('Observed positive rate (%)') },
              order: { field: 'predicted', type: 'quantitative' },
            },
          },
          {
            mark: { type: 'circle', fill: PALETTE.positive, opacity: 0.85, stroke: 'white', strokeWidth: 1 },
            encoding: {
              x: axisX,
              y: axisY,
              size: {
                field: 'count',
                type: 'quantitative',
                scale: { range: [20, 220], zero: true },
                legend: {
                  title: 'Rows in bin',
                  format: ',d',
                  values: sizeLegendValues(Math.max(0, ...values.map((v) => v.count))),
                  symbolFillColor: PALETTE.positive,
                  symbolStrokeWidth: 0,
                },
              },
            },
          },
        ],
      },
    ],
  };
}

/**
 * Score distribution by outcome: one stacked bar per score bin, positives at the bottom, negatives on top.
 * Stacking is computed here rather than by vega-lite so the bin edges stay exact.
 */
export function scoreDistributionChart(bins: readonly HistogramBin[]): TopLevelSpec {
  const values = bins.flatMap((b) => [
    { lower: b.lower, upper: b.upper, y0: 0, y1: b.positives, count: b.positives, outcome: POSITIVES },
    {
      lower: b.lower,
      upper: b.upper,
      y0: b.positives,
      y1: b.positives + b.negatives,
      count: b.negatives,
      outcome: NEGATIVES,
    },
  ]);
  return {
    ...base('Score distribution by outcome', 'rows per score bin, stacked · out-of-time'),
    data: { values },
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lower', type: 'quantitative', axis: { title: 'Predicted probability', format: '.1f' } },
      x2: { field: 'upper' },
      y: { field: 'y0', type: 'quantitative', axis: { title: 'Rows', format: ',d' } },
      y2: { field: 'y1' },
      color: { field: 'outcome', type: 'nominal', scale: OUTCOME_SCALE, legend: { title: null } },
    },
  };
}

/**
 * Lift by score decile (bars, left axis) with the cumulative share of positives captured (line, right axis)
 * and a dashed reference at lift 1.
 */
export function liftChart(rows: readonly LiftRow[]): TopLevelSpec {
  const values = rows.map((r) => ({ decile: r.decile, lift: r.lift, capture: r.cumulativeCapture }));
  const x = {
    field: 'decile',
    type: 'ordinal' as const,
    axis: { title: 'Score decile (1 = highest scores)', labelAngle: 0 },
  };
  return {
    ...base('Lift by decile', 'bars: lift · line: cumulative capture of positives · out-of-time'),
    data: { values },
    layer: [
      {
        layer: [
          {
            mark: { type: 'bar', fill: PALETTE.modelLight },
            encoding: {
              x,
              y: {
                field: 'lift',
                type: 'quantitative',
                axis: { title: 'Lift (× overall positive rate)', format: '.1f', titleColor: PALETTE.model },
              },
            },
          },
          {
            data: { values: [{ one: 1 }] },
            mark: { type: 'rule', stroke: PALETTE.model, strokeDash: [4, 4], strokeWidth: 1 },
            encoding: { y: { field: 'one', type: 'quantitative' } },
          },
        ],
      },
      {
        layer: [
          { mark: { type: 'line', stroke: PALETTE.positive } },
          { mark: { type: 'point', filled: true, fill: PALETTE.positive, size: 36 } },
        ],
        encoding: {
          x,
          y: {
            field: 'capture',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            axis: {
              title: 'Cumulative capture (% of positives)',
              format: '.0%',
              orient: 'right',
              grid: false,
              titleColor: PALETTE.positive,
            },
          },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * Global feature importance as horizontal bars, largest magnitude first, at most `top` (default 20) features,
 * titled `title` (default "Feature importance").
 * @param measure what the numbers are (e.g. "mean |contribution| (log-odds)"), wrapped into the subtitle.
 */
export function importanceChart(
  importance: readonly Contribution[],
  measure: string,
  { top = 20, title = 'Feature importance' }: { top?: number; title?: string } = {},
): TopLevelSpec {
  const rows = [...importance]
    .filter((c) => Number.isFinite(c.contribution))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature))
    .slice(0, top);
  const values = rows.map((c, rank) => ({ feature: c.feature, value: c.contribution, rank }));
  const shown =
    importance.length > rows.length
      ? `top ${rows.length} of ${importance.length} features`
      : `${rows.length} features`;
  // The measure can be a sentence: wrap it into the subtitle, keeping the axis title short so the chart keeps its width.
  return {
    ...base(title, [shown, ...wrapWords(measure, 64)]),
    height: Math.max(60, 16 * rows.length),
    data: { values },
    mark: { type: 'bar', fill: PALETTE.model },
    encoding: {
      y: {
        field: 'feature',
        type: 'nominal',
        sort: { field: 'rank', order: 'ascending' },
        axis: { title: null, labelLimit: 220 },
      },
      x: { field: 'value', type: 'quantitative', axis: { title: 'importance' } },
    },
  };
}

/** Splits text into lines of at most `width` characters at spaces. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Options of {@link renderSvg}. */
export interface RenderSvgOptions {
  /**
   * Prefix of every element id in the SVG (clip paths, gradients). Several SVGs inlined in one HTML document
   * share one id namespace, so give each chart its own prefix. Default 'chart-'.
   */
  idPrefix?: string;
}

/**
 * Renumbers the ids vega generated (`clip3`, `gradient_0`, … from process-wide counters) in order of first
 * appearance as `${prefix}1`, `${prefix}2`, …, so the output depends only on the spec.
 */
function canonicaliseIds(svg: string, prefix: string): string {
  const map = new Map<string, string>();
  const rename = (id: string) => {
    let to = map.get(id);
    if (to === undefined) {
      to = `${prefix}${map.size + 1}`;
      map.set(id, to);
    }
    return to;
  };
  return svg.replace(
    /(\sid="|url\(#|href="#)([^")]+)/g,
    (_m, lead: string, id: string) => `${lead}${rename(id)}`,
  );
}

/**
 * Renders a vega-lite spec to an SVG string, headless: vega-lite compiles the spec, a fresh
 * `vega.View` with the 'none' renderer runs it, `toSVG` serialises it. Deterministic: the same spec gives
 * the same bytes in any process. Data must be inline; nothing is loaded.
 * @throws Error when vega-lite or vega rejects the spec.
 */
export async function renderSvg(spec: TopLevelSpec, options: RenderSvgOptions = {}): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    return canonicaliseIds(svg, options.idPrefix ?? 'chart-');
  } finally {
    view.finalize();
  }
}

/**
 * Qini curve of one treatment against hold on logged out-of-time data: incremental payers per account when the
 * accounts with the largest predicted uplift are treated first, with the random-targeting line beneath it.
 */
export function qiniChart(
  treatment: string,
  points: readonly { share: number; gain: number }[],
  coefficient: number,
): TopLevelSpec {
  const end = points.at(-1)?.gain ?? 0;
  const values = points.flatMap((p) => [
    { share: p.share, gain: p.gain, line: 'predicted uplift first' },
    { share: p.share, gain: p.share * end, line: 'random' },
  ]);
  return {
    ...base(
      `Qini: ${treatment} vs hold`,
      `Qini coefficient ${num(coefficient, 4)} · inverse-propensity weighted · out-of-time`,
    ),
    data: { values },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.8 },
    encoding: {
      x: {
        field: 'share',
        type: 'quantitative',
        axis: pctAxis('Accounts treated, largest predicted uplift first (%)'),
      },
      y: {
        field: 'gain',
        type: 'quantitative',
        axis: { title: 'Incremental payers per account', format: '.3f' },
      },
      color: {
        field: 'line',
        type: 'nominal',
        scale: { domain: ['predicted uplift first', 'random'], range: [PALETTE.positive, PALETTE.reference] },
        legend: { title: null, orient: 'bottom' },
      },
      strokeDash: {
        field: 'line',
        type: 'nominal',
        scale: {
          domain: ['predicted uplift first', 'random'],
          range: [
            [1, 0],
            [4, 4],
          ],
        },
        legend: { title: null, orient: 'bottom' },
      },
    },
  };
}
