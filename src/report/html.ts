/**
 * The self-contained HTML model report written by `repayrisk train` beside each model artifact. One file, no
 * external scripts, fonts, stylesheets or images: charts are inline SVG, styles are inline CSS, so the report
 * opens offline and prints cleanly. All text from the input is escaped.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { MetricSummary, PsiRow } from '../core/metrics/types.ts';
import {
  calibrationChart,
  importanceChart,
  ksChart,
  liftChart,
  PALETTE,
  renderSvg,
  rocChart,
  scoreDistributionChart,
} from './charts.ts';
import { escapeHtml as esc, fixed, integer, percent, signed } from './format.ts';
import { BASE_STYLE, PAGE_END, pageStart } from './style.ts';
import type { KindComparison, ModelReportInput, ReportedModel, ScorecardPointsRow } from './types.ts';

const STYLE = `${BASE_STYLE}
h2 .kind { font-size: 13px; font-weight: 500; color: var(--muted); margin-left: 8px; padding: 2px 8px;
  border: 1px solid var(--line); border-radius: 10px; vertical-align: middle; }
tr.chosen td { font-weight: 600; background: #eef4fb; }
tr.score td { font-weight: 600; }
nav { margin-top: 16px; }
nav ol { margin: 4px 0 0; padding-left: 20px; }
a { color: ${PALETTE.positive}; }
.stable { background: #dafbe1; color: #116329; }
.act { background: #ffebe9; color: #a40e26; }
.bar { display: inline-block; height: 9px; border-radius: 2px; background: ${PALETTE.modelLight}; vertical-align: middle; }
.bar.neg { background: ${PALETTE.negative}; opacity: 0.6; }
td.barcell { width: 90px; padding-left: 0; }
td.feature { font-weight: 600; }
td.feature .muted { display: block; font-weight: 400; font-size: 12px; }
@media print {
  nav { display: none; }
  section.model + section.model { break-before: page; page-break-before: always; }
}
`;

function table(head: string[], rows: string[], numeric: readonly boolean[] = [], className = ''): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${h}</th>`).join('');
  const cls = className ? ` class="${className}"` : '';
  return `<table${cls}><thead><tr>${th}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function td(text: string, numeric = false): string {
  return `<td${numeric ? ' class="n"' : ''}>${text}</td>`;
}

function factsTable(facts: ModelReportInput['facts']): string {
  const rows = facts.map((f) => `<tr><th scope="row">${esc(f.label)}</th><td>${esc(f.value)}</td></tr>`);
  return `<table class="facts"><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

const METRIC_HEAD = [
  'Split',
  'Rows',
  'Positives',
  'Positive rate',
  'AUC',
  'KS',
  'Gini',
  'Brier',
  'Log-loss',
  'ECE',
];
const METRIC_NUMERIC = [false, true, true, true, true, true, true, true, true, true];

function metricRow(split: string, m: MetricSummary): string {
  const cells = [
    td(split),
    td(integer(m.rows), true),
    td(integer(m.positives), true),
    td(percent(m.rows > 0 ? m.positives / m.rows : Number.NaN), true),
    td(fixed(m.auc, 3), true),
    td(fixed(m.ks, 3), true),
    td(fixed(m.gini, 3), true),
    td(fixed(m.brier, 4), true),
    td(fixed(m.logLoss, 4), true),
    td(fixed(m.ece, 3), true),
  ];
  return `<tr>${cells.join('')}</tr>`;
}

function headline(model: ReportedModel): string {
  const e = model.evaluation;
  const rows = [
    metricRow('Train', e.train),
    metricRow('Validation', e.validation),
    metricRow('Out-of-time', e.outOfTime),
  ];
  let out = table(METRIC_HEAD, rows, METRIC_NUMERIC);
  if (model.oracleAuc !== undefined) {
    const gap = e.outOfTime.auc - model.oracleAuc;
    out +=
      `\n<p>Oracle AUC (the generator's true probabilities on the same out-of-time rows): ` +
      `<strong>${fixed(model.oracleAuc, 3)}</strong>; model minus oracle: <strong>${signed(gap, 3)}</strong> ` +
      `(the model recovers ${percent(discriminationShare(e.outOfTime.auc, model.oracleAuc))} of the oracle's ` +
      `lift over chance).</p>`;
  }
  out +=
    '\n<p class="muted">AUC, KS and Gini: higher is better. Brier, log-loss and ECE (expected calibration error, ' +
    'probability units): lower is better.</p>';
  return out;
}

/** (AUC − 0.5) / (oracle − 0.5): the share of the achievable discrimination the model attains. */
function discriminationShare(auc: number, oracle: number): number {
  return oracle > 0.5 ? (auc - 0.5) / (oracle - 0.5) : Number.NaN;
}

function candidatesTable(candidates: readonly KindComparison[]): string {
  const rows = candidates.map((c) => {
    const cells = [
      td(esc(c.kind)),
      td(fixed(c.outOfTimeLogLoss, 4), true),
      td(fixed(c.outOfTimeAuc, 3), true),
      td(c.chosen ? '✓ chosen' : ''),
    ];
    return `<tr${c.chosen ? ' class="chosen"' : ''}>${cells.join('')}</tr>`;
  });
  return table(['Kind', 'OOT log-loss', 'OOT AUC', 'Chosen'], rows, [false, true, true, false]);
}

function scorecardTable(rows: readonly ScorecardPointsRow[]): string {
  const groups = new Map<string, ScorecardPointsRow[]>();
  for (const r of rows) {
    const g = groups.get(r.feature);
    if (g) g.push(r);
    else groups.set(r.feature, [r]);
  }
  const maxAbs = Math.max(1e-9, ...rows.map((r) => Math.abs(r.points)).filter(Number.isFinite));
  const body: string[] = [];
  for (const [feature, bins] of groups) {
    const pts = bins.map((b) => b.points);
    const spread = Math.max(...pts) - Math.min(...pts);
    bins.forEach((b, i) => {
      const width = Number.isFinite(b.points) ? Math.round((Math.abs(b.points) / maxAbs) * 80) : 0;
      const bar = `<span class="bar${b.points < 0 ? ' neg' : ''}" style="width:${width}px"></span>`;
      const first =
        i === 0
          ? `<td class="feature" rowspan="${bins.length}">${esc(feature)}` +
            `<span class="muted">spread ${fixed(spread, 1)} pts</span></td>`
          : '';
      const cells = [
        td(esc(b.bin)),
        td(integer(b.count), true),
        td(percent(b.eventRate), true),
        td(signed(b.woe, 3), true),
        td(fixed(b.points, 1), true),
        `<td class="barcell">${bar}</td>`,
      ];
      body.push(`<tr>${first}${cells.join('')}</tr>`);
    });
  }
  return table(['Feature', 'Bin', 'Rows', 'Event rate', 'WoE', 'Points', ''], body, [
    false,
    false,
    true,
    true,
    true,
    true,
    false,
  ]);
}

/** The score first, then features by PSI descending, so the ones to act on come first. */
function psiTable(rows: readonly PsiRow[]): string {
  const sorted = [...rows].sort(
    (a, b) =>
      Number(b.name === 'score') - Number(a.name === 'score') ||
      (Number.isFinite(b.psi) ? b.psi : -1) - (Number.isFinite(a.psi) ? a.psi : -1) ||
      a.name.localeCompare(b.name),
  );
  const body = sorted.map((r) => {
    const cls = r.name === 'score' ? ' class="score"' : '';
    return `<tr${cls}>${td(esc(r.name))}${td(fixed(r.psi, 3), true)}${td(`<span class="badge ${r.verdict}">${r.verdict}</span>`)}</tr>`;
  });
  return table(['Variable', 'PSI', 'Verdict'], body, [false, true, false]);
}

interface ChartEntry {
  /** Short, stable, unique within a model: part of the figure's and the SVG's ids. */
  id: string;
  title: string;
  /** False when there is nothing to draw: the figure then says so instead of showing empty axes. */
  hasData: boolean;
  spec: () => TopLevelSpec;
}

/** The charts of one model, in display order. */
function modelCharts(model: ReportedModel): ChartEntry[] {
  const e = model.evaluation;
  return [
    {
      id: 'roc',
      title: 'ROC curve',
      hasData: e.roc.fpr.length > 0,
      spec: () => rocChart(e.roc, e.outOfTime.auc),
    },
    { id: 'ks', title: 'KS curve', hasData: e.ksCurve.threshold.length > 0, spec: () => ksChart(e.ksCurve) },
    {
      id: 'calibration',
      title: 'Calibration',
      hasData: e.calibration.length > 0,
      spec: () => calibrationChart(e.calibration, e.outOfTime.ece),
    },
    {
      id: 'distribution',
      title: 'Score distribution by outcome',
      hasData: e.scoreHistogram.length > 0,
      spec: () => scoreDistributionChart(e.scoreHistogram),
    },
    { id: 'lift', title: 'Lift by decile', hasData: e.lift.length > 0, spec: () => liftChart(e.lift) },
    {
      id: 'importance',
      title: 'Feature importance',
      hasData: model.importance.some((c) => Number.isFinite(c.contribution)),
      spec: () => importanceChart(model.importance, model.importanceMeasure),
    },
    ...(model.contributionImportance ? [contributionChart(model, model.contributionImportance)] : []),
  ];
}

/** The kind-agnostic importance chart: mean |explain contribution| over (a sample of) the out-of-time rows. */
function contributionChart(
  model: ReportedModel,
  ci: NonNullable<ReportedModel['contributionImportance']>,
): ChartEntry {
  const total = model.evaluation.outOfTime.rows;
  const over =
    ci.rows < total
      ? `a seeded sample of ${integer(ci.rows)} of ${integer(total)} out-of-time rows`
      : `${integer(ci.rows)} out-of-time rows`;
  return {
    id: 'contribution',
    title: 'Importance by mean |contribution|',
    hasData: ci.rows > 0 && ci.values.some((c) => Number.isFinite(c.contribution)),
    spec: () =>
      importanceChart(ci.values, `mean |contribution to log-odds| over ${over} (exact TreeSHAP for gbdt)`, {
        title: 'Importance by mean |contribution|',
      }),
  };
}

async function modelSection(model: ReportedModel, index: number): Promise<string> {
  const anchor = `model-${index + 1}`;
  const parts: string[] = [];
  parts.push(
    `<section class="model" id="${anchor}">`,
    `<h2>${esc(model.target)}<span class="kind">${esc(model.kind)}</span></h2>`,
    `<p>Positive label: <strong>${esc(model.positiveMeans)}</strong>. Curves, tables and PSI below are on the ` +
      'out-of-time split.</p>',
    '<h3>Headline metrics</h3>',
    headline(model),
  );
  if (model.candidates && model.candidates.length > 0) {
    parts.push('<h3>Candidate kinds</h3>', candidatesTable(model.candidates));
  }
  parts.push('<h3>Charts</h3>', '<div class="charts">');
  for (const chart of modelCharts(model)) {
    const id = `${anchor}-${chart.id}`;
    if (!chart.hasData) {
      parts.push(
        `<figure id="${id}" class="empty"><h4>${chart.title}</h4><p class="muted">No data.</p></figure>`,
      );
      continue;
    }
    // Ids must be unique across the whole document, where every SVG shares one id namespace.
    parts.push(`<figure id="${id}">${await renderSvg(chart.spec(), { idPrefix: `${id}-` })}</figure>`);
  }
  parts.push('</div>');
  // The scorecard table and the PSI table sit side by side when the page is wide enough.
  parts.push('<div class="tables">');
  if (model.scorecard && model.scorecard.length > 0) {
    parts.push('<div>', '<h3>Scorecard points</h3>', scorecardTable(model.scorecard), '</div>');
  }
  parts.push(
    '<div>',
    '<h3>Population stability (training → out-of-time)</h3>',
    '<p class="muted">PSI below 0.10: stable; 0.10–0.25: watch; above 0.25: act.</p>',
    psiTable(model.evaluation.psi),
    '</div>',
    '</div>',
    '</section>',
  );
  return parts.join('\n');
}

/**
 * Renders the model report as one self-contained HTML document (UTF-8): a header with the title and the facts
 * table, then per model its headline metrics (train / validation / out-of-time, and the oracle AUC when
 * given), the candidate kinds when given, inline SVG charts (ROC, KS, calibration, score distribution, lift,
 * the kind's own feature importance and, when given, importance by mean |contribution|), the scorecard points
 * table when given, and the PSI table.
 *
 * Deterministic: the same input gives the same bytes, in any process. The document references nothing
 * outside itself (only in-page `#` anchors and the SVG namespace URIs).
 * @throws Error when vega-lite or vega cannot render a chart (a bug in the chart specs, not in the input).
 */
export async function renderModelReport(input: ModelReportInput): Promise<string> {
  const sections: string[] = [];
  for (const [i, model] of input.models.entries()) sections.push(await modelSection(model, i));
  const nav =
    input.models.length > 1
      ? `<nav><strong>Models</strong><ol>${input.models
          .map(
            (m, i) =>
              `<li><a href="#model-${i + 1}">${esc(m.target)}</a> <span class="muted">${esc(m.kind)}</span></li>`,
          )
          .join('')}</ol></nav>`
      : '';
  return [
    ...pageStart(input.title, STYLE),
    factsTable(input.facts),
    '</header>',
    nav,
    ...sections,
    ...PAGE_END,
  ].join('\n');
}
