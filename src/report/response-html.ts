/**
 * The self-contained HTML report of a treatment-response artifact, written beside it by `train --response`: the
 * overlap table (where the logging policy took each treatment, and so where a fitted response is used), the
 * calibration of each arm's P(pay | t) on its own out-of-time snapshots, and the Qini curve of each treatment's
 * predicted uplift over hold. Charts are inline SVG (vega-lite rendered in Node), as in the model report.
 */
import type { CalibrationBin } from '../core/metrics/types.ts';
import type { QiniCurve } from '../core/uplift/qini.ts';
import { calibrationChart, qiniChart, renderSvg } from './charts.ts';
import { escapeHtml as esc, fixed, integer, percent } from './format.ts';
import { BASE_STYLE, PAGE_END, pageStart } from './style.ts';

/** One treatment arm as the report shows it. */
export interface ReportedArm {
  treatment: string;
  rows: { train: number; validation: number; outOfTime: number };
  /** Calibration of P(pay | t) on the arm's out-of-time snapshots; null with a single class (or none). */
  calibration: { bins: CalibrationBin[]; ece: number; auc: number } | null;
  /** Qini of the predicted uplift over hold, on out-of-time snapshots logged t or hold inside both supports. */
  qini: QiniCurve | null;
}

export interface ResponseReportInput {
  title: string;
  facts: { label: string; value: string }[];
  /** Treatment names in column order. */
  treatments: readonly string[];
  overlap: readonly {
    cell: string;
    snapshots: number;
    shares: Record<string, number>;
    supported: readonly string[];
  }[];
  /** The support rule in words, e.g. "at least 2% and 50 snapshots of the bucket". */
  rule: string;
  arms: ReportedArm[];
  notFitted: Record<string, string>;
}

const STYLE = `${BASE_STYLE}
td.supported { font-weight: 600; background: #dafbe1; }
td.outside { color: var(--muted); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
`;

function overlapTable(input: ResponseReportInput): string {
  const head = ['Days past due', 'Logged', ...input.treatments]
    .map((h, i) => `<th${i ? ' class="n"' : ''}>${esc(h)}</th>`)
    .join('');
  const rows = input.overlap.map((r) => {
    const cells = input.treatments.map((t) => {
      const on = r.supported.includes(t);
      return `<td class="n ${on ? 'supported' : 'outside'}">${percent(r.shares[t] ?? 0)}${on ? ' ✓' : ''}</td>`;
    });
    return `<tr><td>${esc(r.cell)}</td><td class="n">${integer(r.snapshots)}</td>${cells.join('')}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

async function armSection(arm: ReportedArm, i: number): Promise<string> {
  const charts: string[] = [];
  if (arm.calibration)
    charts.push(
      await renderSvg(calibrationChart(arm.calibration.bins, arm.calibration.ece), {
        idPrefix: `arm${i}-cal-`,
      }),
    );
  if (arm.qini)
    charts.push(
      await renderSvg(qiniChart(arm.treatment, arm.qini.points, arm.qini.coefficient), {
        idPrefix: `arm${i}-qini-`,
      }),
    );
  const r = arm.rows;
  const facts = [
    `logged ${integer(r.train)} / ${integer(r.validation)} / ${integer(r.outOfTime)} (train / validation / out of time)`,
    arm.calibration
      ? `P(pay) out-of-time AUC ${fixed(arm.calibration.auc, 3)}, ECE ${fixed(arm.calibration.ece, 3)}`
      : 'too few out-of-time snapshots of both outcomes for a calibration',
    ...(arm.qini
      ? [
          `Qini coefficient ${fixed(arm.qini.coefficient, 4)} over ${integer(arm.qini.treated)} ${esc(arm.treatment)} and ${integer(arm.qini.control)} hold snapshots`,
        ]
      : []),
  ];
  return [
    `<section class="model" id="arm-${esc(arm.treatment)}">`,
    `<h2>${esc(arm.treatment)}</h2>`,
    `<p class="muted">${facts.join(' · ')}</p>`,
    `<div class="charts">${charts.join('\n')}</div>`,
    '</section>',
  ].join('\n');
}

/** The response artifact's report as one HTML document. All text from the input is escaped. */
export async function renderResponseReport(input: ResponseReportInput): Promise<string> {
  const facts = input.facts.map(
    (f) => `<tr><th scope="row">${esc(f.label)}</th><td>${esc(f.value)}</td></tr>`,
  );
  const sections: string[] = [];
  for (const [i, arm] of input.arms.entries()) sections.push(await armSection(arm, i));
  const notFitted = Object.entries(input.notFitted);
  return [
    ...pageStart(input.title, STYLE),
    `<table class="facts"><tbody>\n${facts.join('\n')}\n</tbody></table>`,
    '</header>',
    '<section id="overlap">',
    '<h2>Overlap: where the logging policy took each treatment</h2>',
    `<p class="muted">Share of each delinquency bucket's logged snapshots (training period) that got each treatment. ` +
      `✓ = supported (${esc(input.rule)}): the fitted response is used there; elsewhere the policy's lift tables ` +
      'price the treatment and the decision says RESPONSE_OUTSIDE_SUPPORT.</p>',
    overlapTable(input),
    notFitted.length
      ? `<p>No response: ${notFitted.map(([t, why]) => `<strong>${esc(t)}</strong> (${esc(why)})`).join(', ')}.</p>`
      : '',
    '</section>',
    ...sections,
    ...PAGE_END,
  ].join('\n');
}
