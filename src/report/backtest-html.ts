/**
 * The self-contained HTML backtest report (DESIGN §8), written beside `backtest.json`: the same look as the model
 * report (./html.ts) and the same rules — one file, inline CSS, charts as inline SVG, nothing loaded from the
 * network, every text from the input escaped. Every figure names the estimator that produced it; a figure an
 * estimator does not provide (null) or that is undefined (NaN) shows as "n/a".
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  type BacktestReport,
  ESTIMATORS,
  type Estimate,
  type Estimator,
  type GroupFigures,
  type PolicyBacktest,
  type PromiseRate,
  type StabilityRow,
} from '../core/backtest/types.ts';
import { TREATMENTS } from '../core/schema/enums.ts';
import {
  cureCurveChart,
  netByMonthChart,
  policyLabel,
  psiByMonthChart,
  recoveryCostChart,
  treatmentHeatmap,
} from './backtest-charts.ts';
import { renderSvg } from './charts.ts';
import { escapeHtml as esc, fixed, integer, percent, signed } from './format.ts';
import { BASE_STYLE, PAGE_END, pageStart } from './style.ts';

const STYLE = `${BASE_STYLE}
td.na { color: var(--muted); }
.warnings { margin: 20px 0; padding: 12px 16px; border: 2px solid #cf222e; border-radius: 6px; background: #ffebe9; }
.warnings h2 { margin: 0 0 6px; padding: 0; border: 0; font-size: 17px; color: #a40e26; }
.warnings ul { margin: 4px 0; padding-left: 20px; }
.stable, .yes { background: #dafbe1; color: #116329; }
.act, .no { background: #ffebe9; color: #a40e26; }
`;

const NA = 'n/a';

/** True for a number that can be shown; null (estimator does not apply), NaN and ±Infinity cannot. */
const shown = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Currency units with two decimals, or "n/a". */
const money = (v: number | null | undefined): string => (shown(v) ? fixed(v, 2) : NA);
/** A share as a percentage, or "n/a". */
const pct = (v: number | null | undefined): string => (shown(v) ? percent(v) : NA);
/** Three decimals (AUC, KS, PSI), or "n/a". */
const three = (v: number | null | undefined): string => (shown(v) ? fixed(v, 3) : NA);

function td(text: string, numeric = false): string {
  const cls = [numeric ? 'n' : '', text === NA ? 'na' : ''].filter(Boolean).join(' ');
  return `<td${cls ? ` class="${cls}"` : ''}>${text}</td>`;
}

/** A table; `head` is raw HTML (callers escape), `numeric` right-aligns columns. */
function table(head: readonly string[], rows: readonly string[], numeric: readonly boolean[] = []): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${h}</th>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** The estimators the report says applied, in contract order. */
function appliedEstimators(r: BacktestReport): Estimator[] {
  return ESTIMATORS.filter((e) => r.estimators[e]);
}

function facts(r: BacktestReport): string {
  const applied = ESTIMATORS.map((e) => `${e}: ${r.estimators[e] ? 'applied' : 'not applied'}`).join('; ');
  const rows: [string, string][] = [
    ['History', r.history],
    ['Model version', r.model_version],
    ['Snapshots replayed', integer(r.snapshots)],
    ['Decision time', `each snapshot's as_of_date at ${r.decision_time_utc} UTC`],
    ['Estimators', applied],
    ['Bootstrap samples', integer(r.bootstrap_samples)],
    ['Seed', String(r.seed)],
    [
      'Realised under the historical policy',
      `recovery ${money(r.realised.recovery)} per snapshot; cure rate ${pct(r.realised.cure_rate)}`,
    ],
    ['Policies', r.policies.map(policyLabel).join('; ') || 'none'],
  ];
  const body = rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`);
  return `<table class="facts"><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

/** Overlap warnings of every policy and 'act' stability verdicts: shown first, before any figure. */
function warnings(r: BacktestReport): string {
  const items: string[] = [];
  for (const p of r.policies) {
    for (const w of p.overlap.warnings)
      items.push(`<li><strong>${esc(policyLabel(p))}</strong>: ${esc(w)}</li>`);
  }
  for (const s of r.stability) {
    if (s.verdict === 'act') {
      items.push(
        `<li>Model ${esc(r.model_version)}: the ${esc(s.target)} scores of ${esc(s.month)} moved from the ` +
          `model's training scores (PSI ${three(s.psi)}, act).</li>`,
      );
    }
  }
  if (items.length === 0) return '';
  return (
    '<section class="warnings" role="alert"><h2>⚠ Warnings</h2>' +
    '<p>Off-policy estimates lean on few logged decisions where overlap is poor; read them with care.</p>' +
    `<ul>\n${items.join('\n')}\n</ul></section>`
  );
}

function interval(e: Estimate | null): string {
  return e && shown(e.low) && shown(e.high) ? `${fixed(e.low, 2)} – ${fixed(e.high, 2)}` : NA;
}

function pctInterval(e: Estimate | null): string {
  return e && shown(e.low) && shown(e.high) ? `${percent(e.low)} – ${percent(e.high)}` : NA;
}

/** One policy's overall figures: one row per measure and estimator, each with its 95% bootstrap interval. */
function policyTable(p: PolicyBacktest, est: readonly Estimator[]): string {
  const rows: string[] = [];
  const row = (measure: string, estimator: string, value: string, iv: string) =>
    `<tr>${td(esc(measure))}${td(esc(estimator))}${td(value, true)}${td(iv, true)}</tr>`;
  for (const e of est) {
    const iv = p.intervals.recovery[e];
    rows.push(row('Recovery per snapshot', e, money(iv?.value ?? p.overall.recovery[e]), interval(iv)));
  }
  for (const e of est) {
    const iv = p.intervals.net[e];
    rows.push(
      row('Net (recovery − cost) per snapshot', e, money(iv?.value ?? p.overall.net[e]), interval(iv)),
    );
  }
  for (const e of est) {
    const iv = p.intervals.cure_rate[e];
    rows.push(row('Cure rate', e, pct(iv?.value ?? p.overall.cure_rate[e]), pctInterval(iv)));
  }
  rows.push(row('Cost per snapshot', 'decision cost (no estimator)', money(p.overall.cost), NA));
  return table(['Measure', 'Estimator', 'Value', '95% interval'], rows, [false, false, true, true]);
}

function policyFacts(p: PolicyBacktest): string {
  const mix = TREATMENTS.map((t) => `${t} ${pct(p.overall.treatment_mix[t])}`).join(' · ');
  const hits = Object.entries(p.guardrail_hits)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${integer(v)}`)
    .join(' · ');
  const rows: [string, string][] = [
    ['Snapshots', integer(p.snapshots)],
    ['Accounts', integer(p.accounts)],
    ['Contacts per account', shown(p.contacts_per_account) ? fixed(p.contacts_per_account, 2) : NA],
    ['Treatment mix', mix],
    ['Guardrail hits', hits || 'none'],
    [
      'IPW effective sample size',
      `${shown(p.overlap.ess) ? fixed(p.overlap.ess, 1) : NA} (${pct(p.overlap.ess_share)} of snapshots)`,
    ],
  ];
  const body = rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`);
  return `<table class="facts"><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

function differenceTable(r: BacktestReport, est: readonly Estimator[]): string {
  const d = r.difference;
  if (!d) return '';
  const champion = r.policies.find((p) => p.role === 'champion');
  const challenger = r.policies.find((p) => p.role === 'challenger');
  const rows: string[] = [];
  const measures: [string, Record<Estimator, Estimate | null>, boolean][] = [
    ['Recovery per snapshot', d.recovery, false],
    ['Net per snapshot', d.net, false],
    ['Cure rate', d.cure_rate, true],
  ];
  for (const [name, byEst, isShare] of measures) {
    for (const e of est) {
      const x = byEst[e];
      const value =
        x && shown(x.value) ? (isShare ? `${signed(x.value * 100, 1)} pp` : signed(x.value, 2)) : NA;
      const iv =
        x && shown(x.low) && shown(x.high)
          ? isShare
            ? `${signed(x.low * 100, 1)} – ${signed(x.high * 100, 1)} pp`
            : `${signed(x.low, 2)} – ${signed(x.high, 2)}`
          : NA;
      let reading = NA;
      if (x && shown(x.low) && shown(x.high)) {
        reading =
          x.low > 0
            ? '<span class="badge yes">challenger higher</span>'
            : x.high < 0
              ? '<span class="badge no">challenger lower</span>'
              : '<span class="muted">interval includes 0</span>';
      }
      rows.push(`<tr>${td(esc(name))}${td(esc(e))}${td(value, true)}${td(iv, true)}${td(reading)}</tr>`);
    }
  }
  const who =
    challenger && champion
      ? `${esc(policyLabel(challenger))} minus ${esc(policyLabel(champion))}`
      : 'challenger minus champion';
  return (
    '<h2 id="difference">Challenger vs champion</h2>' +
    `<p>${who}, paired over the same snapshots; 95% bootstrap intervals.</p>` +
    table(['Measure', 'Estimator', 'Difference', '95% interval', 'Reading'], rows, [
      false,
      false,
      true,
      true,
      false,
    ])
  );
}

/** Figures per group (segment, bucket, month) of one policy, one column per applied estimator. */
function groupTable(groups: readonly GroupFigures[], est: readonly Estimator[], keyTitle: string): string {
  const head = [
    esc(keyTitle),
    'Snapshots',
    'Cost',
    ...est.map((e) => `Recovery <span class="muted">${esc(e)}</span>`),
    ...est.map((e) => `Net <span class="muted">${esc(e)}</span>`),
    ...est.map((e) => `Cure rate <span class="muted">${esc(e)}</span>`),
    'Treatment mix',
  ];
  const numeric = head.map((_, i) => i > 0 && i < head.length - 1);
  const rows = groups.map((g) => {
    const mix = TREATMENTS.filter((t) => (g.treatment_mix[t] ?? 0) > 0)
      .map((t) => `${t} ${pct(g.treatment_mix[t])}`)
      .join(' · ');
    const cells = [
      td(esc(g.key)),
      td(integer(g.snapshots), true),
      td(money(g.cost), true),
      ...est.map((e) => td(money(g.recovery[e]), true)),
      ...est.map((e) => td(money(g.net[e]), true)),
      ...est.map((e) => td(pct(g.cure_rate[e]), true)),
      td(esc(mix || NA)),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return table(head, rows, numeric);
}

function promiseTable(rows: readonly PromiseRate[], keyTitle: string): string {
  const body = rows.map(
    (r) =>
      `<tr>${td(esc(r.key))}${td(integer(r.promises), true)}${td(integer(r.kept), true)}` +
      `${td(integer(r.broken), true)}${td(integer(r.open), true)}${td(pct(r.kept_rate), true)}</tr>`,
  );
  return table([esc(keyTitle), 'Promises', 'Kept', 'Broken', 'Open', 'Kept rate'], body, [
    false,
    true,
    true,
    true,
    true,
    true,
  ]);
}

/**
 * Stage transitions of each replayed policy (core/backtest/stages.ts): the moves up one stage over the replay, the
 * moves that skip a stage, and per month every move between stages.
 */
function stageSection(r: BacktestReport): string {
  return r.policies
    .map((p) => {
      const st = p.stage_transitions;
      const name = (k: number) => `${k + 1} ${esc(st.stages[k] ?? '?')}`;
      const basis = st.staged
        ? "the policy's own stages"
        : 'the ladder reminder → call → visit → agency_or_legal';
      const up = table(
        ['Escalation', 'Accounts'],
        st.escalations.map(
          (e) => `<tr>${td(`${name(e.from)} → ${name(e.to)}`)}${td(integer(e.accounts), true)}</tr>`,
        ),
        [false, true],
      );
      const months = st.by_month.length
        ? table(
            ['Month', 'From', 'To', 'Accounts'],
            st.by_month.map(
              (m) =>
                `<tr>${td(esc(m.month))}${td(name(m.from))}${td(name(m.to))}${td(integer(m.accounts), true)}</tr>`,
            ),
            [false, false, false, true],
          )
        : '<p class="muted">No account changed stage.</p>';
      return (
        `<h3>${esc(policyLabel(p))}</h3>` +
        `<p class="muted">Stages: ${basis}. ${integer(st.skipped)} move(s) skipped a stage.</p>` +
        `${up}<h4>By month</h4>${months}`
      );
    })
    .join('\n');
}

/** Promise-kept rates of the history, or why there are none. */
function promiseSection(r: BacktestReport): string {
  const p = r.promises;
  if (!p)
    return '<p class="muted">No payments table in this history: promises to pay cannot be matched to payments.</p>';
  return (
    `<p class="muted">What happened under the logged treatments: the promises to pay made in the ${p.window_days} ` +
    "days after each snapshot's decision (until the account's next snapshot), matched to payments oldest promise " +
    'first; kept rate = kept / (kept + broken), promises still open at the end of the history left out. Segments ' +
    "by the champion's thresholds.</p>" +
    `<h4>Overall</h4>${promiseTable([p.overall], '')}` +
    `<h4>By segment</h4>${promiseTable(p.by_segment, 'Segment')}` +
    `<h4>By logged treatment</h4>${promiseTable(p.by_treatment, 'Treatment')}`
  );
}

function stabilityTable(rows: readonly StabilityRow[]): string {
  const body = rows.map((r) => {
    const verdict = `<span class="badge ${esc(r.verdict)}">${esc(r.verdict)}</span>`;
    return (
      `<tr>${td(esc(r.month))}${td(esc(r.target))}${td(integer(r.snapshots), true)}` +
      `${td(three(r.auc), true)}${td(three(r.ks), true)}${td(three(r.psi), true)}${td(verdict)}</tr>`
    );
  });
  return table(['Month', 'Target', 'Snapshots', 'AUC', 'KS', 'PSI', 'Verdict'], body, [
    false,
    false,
    true,
    true,
    true,
    true,
    false,
  ]);
}

interface ChartEntry {
  /** Unique within the document: the figure's id and the prefix of its SVG's ids. */
  id: string;
  title: string;
  hasData: boolean;
  spec: () => TopLevelSpec;
}

function charts(r: BacktestReport, est: readonly Estimator[]): ChartEntry[] {
  const ps = r.policies;
  const out: ChartEntry[] = [
    {
      id: 'recovery-cost',
      title: 'Recovery and cost by policy',
      hasData: ps.length > 0,
      spec: () => recoveryCostChart(ps, est),
    },
  ];
  ps.forEach((p, i) => {
    out.push({
      id: `heatmap-${i + 1}`,
      title: `Treatment mix · ${policyLabel(p)}`,
      hasData: p.heatmap.some((c) => c.snapshots > 0),
      spec: () => treatmentHeatmap(p),
    });
  });
  out.push(
    {
      id: 'cure',
      title: 'Cure rate by delinquency bucket',
      hasData:
        est.length > 0 && ps.some((p) => p.by_bucket.some((g) => est.some((e) => shown(g.cure_rate[e])))),
      spec: () => cureCurveChart(ps, est),
    },
    {
      id: 'net-month',
      title: 'Net recovery by month',
      hasData: est.length > 0 && ps.some((p) => p.by_month.some((g) => est.some((e) => shown(g.net[e])))),
      spec: () => netByMonthChart(ps, est),
    },
    {
      id: 'psi',
      title: 'Score stability (PSI) by month',
      hasData: r.stability.some((s) => shown(s.psi)),
      spec: () => psiByMonthChart(r.stability),
    },
  );
  return out;
}

async function chartGrid(entries: readonly ChartEntry[]): Promise<string> {
  const parts = ['<div class="charts">'];
  for (const c of entries) {
    if (!c.hasData) {
      parts.push(
        `<figure id="${c.id}" class="empty"><h4>${esc(c.title)}</h4><p class="muted">No data.</p></figure>`,
      );
      continue;
    }
    parts.push(`<figure id="${c.id}">${await renderSvg(c.spec(), { idPrefix: `${c.id}-` })}</figure>`);
  }
  parts.push('</div>');
  return parts.join('\n');
}

/**
 * Renders a backtest as one self-contained HTML document (UTF-8): a header with the facts (history, model
 * version, snapshots, decision time, which estimators applied, bootstrap samples, seed, realised figures), the
 * overlap warnings (and 'act' stability verdicts) in a box before any figure, a table per policy (each figure
 * labelled with its estimator and 95% bootstrap interval), the challenger − champion differences when present,
 * charts (recovery and cost with interval whiskers, a willingness × ability treatment heatmap per policy, cure
 * rate by bucket, net by month, PSI by month with its bands), by-segment and by-bucket tables per policy, and the
 * stability table. Only the estimators marked applied get columns; a null or NaN figure reads "n/a".
 *
 * Deterministic: the same report gives the same bytes. References nothing outside itself (only in-page anchors
 * and the SVG namespace URI).
 * @throws Error when vega-lite or vega cannot render a chart (a bug in the chart specs, not in the input).
 */
export async function renderBacktestReport(r: BacktestReport): Promise<string> {
  const est = appliedEstimators(r);
  const title = `Backtest · ${r.policies.map((p) => p.policy_version).join(' vs ') || 'no policy'}`;
  const policySections = r.policies.map(
    (p, i) =>
      `<section id="policy-${i + 1}"><h3>${esc(policyLabel(p))}</h3><div class="tables">` +
      `<div>${policyTable(p, est)}</div><div>${policyFacts(p)}</div></div></section>`,
  );
  const groupSections = r.policies.map(
    (p) =>
      `<h3>${esc(policyLabel(p))}</h3>` +
      `<h4>By segment</h4>${groupTable(p.by_segment, est, 'Segment')}` +
      `<h4>By delinquency bucket</h4>${groupTable(p.by_bucket, est, 'Days past due')}`,
  );
  return [
    ...pageStart(title, STYLE),
    facts(r),
    '</header>',
    warnings(r),
    '<h2 id="policies">Policies</h2>',
    '<p class="muted">Means per replayed delinquent snapshot, currency units. simulation: the synthetic ' +
      "world's truth; ipw: inverse propensity weighting of logged outcomes; doubly_robust: response model " +
      'corrected by weighted residuals. Intervals: 95% bootstrap.</p>',
    ...policySections,
    differenceTable(r, est),
    '<h2 id="charts">Charts</h2>',
    await chartGrid(charts(r, est)),
    '<h2 id="groups">By segment and by delinquency bucket</h2>',
    ...groupSections,
    '<h2 id="stages">Stage transitions</h2>',
    '<p class="muted">Accounts whose decision moved from one stage of the staged flow to another since their ' +
      'previous decision in a stage (a hold or a treatment in no stage leaves the account where it was). A replay ' +
      "decides on the logged history; under a staged policy it also counts the policy's own earlier replayed " +
      'contacts as tries.</p>',
    stageSection(r),
    '<h2 id="promises">Promises to pay</h2>',
    promiseSection(r),
    '<h2 id="stability">Model stability</h2>',
    '<p class="muted">Per snapshot month: AUC and KS of the model on the month\'s labelled snapshots (n/a with ' +
      "too few of a class); PSI of the month's scores against the model's training scores (the snapshots it " +
      "was fitted on when this history is its training data, else this history's snapshots of its training " +
      'months; n/a when it has none): below 0.10 stable, 0.10–0.25 watch, above 0.25 act.</p>',
    stabilityTable(r.stability),
    ...PAGE_END,
  ].join('\n');
}
