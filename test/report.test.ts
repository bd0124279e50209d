import { execFileSync } from 'node:child_process';
import type { TopLevelSpec } from 'vega-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  CalibrationBin,
  Evaluation,
  HistogramBin,
  KsCurve,
  LiftRow,
  MetricSummary,
  PsiRow,
  RocCurve,
} from '../src/core/metrics/types.ts';
import { ksChart, rocChart, sizeLegendValues, thinCurve } from '../src/report/charts.ts';
import { escapeHtml, fixed, integer, percent, signed } from '../src/report/format.ts';
import { renderModelReport, renderSvg } from '../src/report/index.ts';
import type { ModelReportInput, ReportedModel, ScorecardPointsRow } from '../src/report/types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Fixture: metrics computed from a seeded synthetic population, so curves, tables and headline figures agree
// with each other the way the real metrics module's output would.

/** Park–Miller LCG: a tiny seeded generator, local to the fixture. */
function lcg(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Model scores and labels: the true log-odds are a + b·z; the model sees z with noise and a slight tilt. */
function population(seed: number, n: number, a: number, b: number, drift = 0) {
  const rand = lcg(seed);
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()) + drift;
    const noise = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    labels[i] = rand() < sigmoid(a + b * z) ? 1 : 0;
    scores[i] = sigmoid(a * 0.9 + b * 0.85 * z + 0.35 * noise);
  }
  return { scores, labels };
}

type Pop = ReturnType<typeof population>;

/** Row indices sorted by score ascending (ties by index, so the fixture is deterministic). */
const ascending = (p: Pop) => [...p.scores.keys()].sort((i, j) => p.scores[i]! - p.scores[j]! || i - j);

function roc(p: Pop): RocCurve {
  const order = ascending(p).reverse();
  const pos = p.labels.reduce((s, y) => s + y, 0);
  const neg = p.labels.length - pos;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  order.forEach((i, k) => {
    if (p.labels[i]) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || p.scores[next] !== p.scores[i]) {
      fpr.push(fp / neg);
      tpr.push(tp / pos);
    }
  });
  return { fpr, tpr };
}

function aucOf(r: RocCurve): number {
  let area = 0;
  for (let k = 1; k < r.fpr.length; k++)
    area += ((r.fpr[k]! - r.fpr[k - 1]!) * (r.tpr[k]! + r.tpr[k - 1]!)) / 2;
  return area;
}

function ksCurve(p: Pop): KsCurve {
  const order = ascending(p);
  const pos = p.labels.reduce((s, y) => s + y, 0);
  const neg = p.labels.length - pos;
  const out: KsCurve = { threshold: [], cumPositives: [], cumNegatives: [], atThreshold: 0, ks: 0 };
  let cp = 0;
  let cn = 0;
  order.forEach((i, k) => {
    if (p.labels[i]) cp++;
    else cn++;
    const next = order[k + 1];
    if (next === undefined || p.scores[next] !== p.scores[i]) {
      out.threshold.push(p.scores[i]!);
      out.cumPositives.push(cp / pos);
      out.cumNegatives.push(cn / neg);
      if (Math.abs(cn / neg - cp / pos) > out.ks) {
        out.ks = Math.abs(cn / neg - cp / pos);
        out.atThreshold = p.scores[i]!;
      }
    }
  });
  return out;
}

function calibration(p: Pop, bins = 10): CalibrationBin[] {
  const order = ascending(p);
  return Array.from({ length: bins }, (_, b) => {
    const rows = order.slice(
      Math.floor((b * order.length) / bins),
      Math.floor(((b + 1) * order.length) / bins),
    );
    const s = rows.map((i) => p.scores[i]!);
    return {
      lower: s[0]!,
      upper: s[s.length - 1]!,
      count: rows.length,
      meanPredicted: s.reduce((t, x) => t + x, 0) / rows.length,
      observedRate: rows.reduce((t, i) => t + p.labels[i]!, 0) / rows.length,
    };
  });
}

function lift(p: Pop): LiftRow[] {
  const order = ascending(p).reverse();
  const total = p.labels.reduce((s, y) => s + y, 0);
  const overall = total / order.length;
  let captured = 0;
  return Array.from({ length: 10 }, (_, d) => {
    const rows = order.slice(Math.floor((d * order.length) / 10), Math.floor(((d + 1) * order.length) / 10));
    const positives = rows.reduce((t, i) => t + p.labels[i]!, 0);
    captured += positives;
    const rate = positives / rows.length;
    return {
      decile: d + 1,
      count: rows.length,
      positives,
      rate,
      lift: rate / overall,
      cumulativeCapture: captured / total,
    };
  });
}

function histogram(p: Pop, bins = 20): HistogramBin[] {
  const out = Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    positives: 0,
    negatives: 0,
  }));
  p.scores.forEach((s, i) => {
    const bin = out[Math.min(bins - 1, Math.floor(s * bins))]!;
    if (p.labels[i]) bin.positives++;
    else bin.negatives++;
  });
  return out;
}

function summary(p: Pop): MetricSummary {
  const n = p.labels.length;
  const positives = p.labels.reduce((s, y) => s + y, 0);
  const auc = aucOf(roc(p));
  let brier = 0;
  let logLoss = 0;
  p.scores.forEach((s, i) => {
    const y = p.labels[i]!;
    brier += (s - y) ** 2;
    logLoss -= y ? Math.log(s) : Math.log(1 - s);
  });
  const ece = calibration(p).reduce(
    (t, b) => t + (b.count / n) * Math.abs(b.meanPredicted - b.observedRate),
    0,
  );
  return {
    rows: n,
    positives,
    auc,
    ks: ksCurve(p).ks,
    gini: 2 * auc - 1,
    brier: brier / n,
    logLoss: logLoss / n,
    ece,
  };
}

function evaluation(seed: number, a: number, b: number, psi: PsiRow[]): Evaluation {
  const train = population(seed, 6000, a, b);
  const validation = population(seed + 1, 2000, a, b);
  const oot = population(seed + 2, 2500, a, b, 0.15);
  return {
    train: summary(train),
    validation: summary(validation),
    outOfTime: summary(oot),
    roc: roc(oot),
    ksCurve: ksCurve(oot),
    calibration: calibration(oot),
    lift: lift(oot),
    scoreHistogram: histogram(oot),
    psi,
  };
}

const verdict = (psi: number): PsiRow['verdict'] => (psi < 0.1 ? 'stable' : psi <= 0.25 ? 'watch' : 'act');

const WILLINGNESS_FEATURES = [
  'promise_kept_rate_90d',
  'days_past_due',
  'payments_last_90d',
  'contact_rate_30d',
  '<b>income</b>',
  'balance_to_limit',
  'months_on_book',
  'broken_promises_180d',
  'channel',
  'last_payment_days_ago',
  'dispute_flag',
  'partial_payment_share',
  'inbound_contacts_30d',
  'bureau_score',
  'age_band',
  'region',
  'product',
  'emails_opened_30d',
  'sms_replied_30d',
  'hardship_flag',
  'arrangement_count',
  'prior_collections',
  'employment_type',
  'tenure_at_address',
];

function scorecard(): ScorecardPointsRow[] {
  const bins: Record<string, [string, number, number, number, number][]> = {
    promise_kept_rate_90d: [
      ['missing', 1210, 0.221, -0.62, 18.4],
      ['[0, 0.25)', 2140, 0.168, -0.95, 9.1],
      ['[0.25, 0.6)', 1530, 0.352, 0.03, 36.8],
      ['[0.6, 1]', 1120, 0.587, 0.99, 64.2],
    ],
    days_past_due: [
      ['[0, 30)', 1890, 0.511, 0.68, 55.0],
      ['[30, 60)', 1740, 0.347, 0.01, 36.1],
      ['[60, 120)', 1460, 0.238, -0.53, 21.7],
      ['[120, inf)', 910, 0.129, -1.25, 1.9],
    ],
    channel: [
      ['card|bnpl', 2480, 0.392, 0.18, 40.4],
      ['personal_loan', 2050, 0.318, -0.12, 32.0],
      ['missing', 1470, 0.286, -0.28, 27.5],
    ],
    '<b>income</b>': [
      ['-999 (no bureau hit)', 640, 0.262, -0.4, 24.3],
      ['[0, 1500)', 1980, 0.281, -0.3, 27.0],
      ['[1500, 3000)', 2130, 0.347, 0.01, 35.9],
      ['[3000, inf)', 1250, 0.421, 0.31, 44.1],
    ],
  };
  return Object.entries(bins).flatMap(([feature, rows]) =>
    rows.map(([bin, count, eventRate, woe, points]) => ({ feature, bin, count, eventRate, woe, points })),
  );
}

function fixture(): ModelReportInput {
  const psiW: PsiRow[] = [
    { name: 'score', psi: 0.064, verdict: 'stable' },
    ...WILLINGNESS_FEATURES.map((name, k) => {
      const psi = [0.012, 0.031, 0.142, 0.008, 0.274, 0.05][k % 6]! + k * 0.0007;
      return { name, psi, verdict: verdict(psi) };
    }),
  ];
  const evalW = evaluation(20240101, -0.7, 1.35, psiW);
  const willingness: ReportedModel = {
    target: 'willingness',
    positiveMeans: 'pays anything within 30 days',
    kind: 'scorecard',
    evaluation: evalW,
    importance: WILLINGNESS_FEATURES.map((feature, k) => ({ feature, contribution: 0.62 / (1 + 0.35 * k) })),
    importanceMeasure: 'Mean |contribution| (log-odds)',
    // Fewer rows than the 2,500 out-of-time rows: the caption says it was a sample.
    contributionImportance: {
      values: WILLINGNESS_FEATURES.map((feature, k) => ({ feature, contribution: 0.41 / (1 + 0.5 * k) })),
      rows: 2000,
    },
    scorecard: scorecard(),
    candidates: [
      { kind: 'logistic', outOfTimeLogLoss: 0.5712, outOfTimeAuc: 0.7688, chosen: false },
      {
        kind: 'scorecard',
        outOfTimeLogLoss: evalW.outOfTime.logLoss,
        outOfTimeAuc: evalW.outOfTime.auc,
        chosen: true,
      },
      { kind: 'mlp', outOfTimeLogLoss: 0.5741, outOfTimeAuc: 0.7802, chosen: false },
    ],
    oracleAuc: 0.7861,
  };
  const abilityFeatures = [
    '<b>income</b>',
    'balance_to_limit',
    'bureau_score',
    'employment_type',
    'months_on_book',
  ];
  const ability: ReportedModel = {
    target: 'ability',
    positiveMeans: 'clears the arrears within 90 days',
    kind: 'logistic',
    evaluation: evaluation(777, -1.6, 1.1, [
      { name: 'score', psi: 0.118, verdict: 'watch' },
      ...abilityFeatures.map((name, k) => ({
        name,
        psi: 0.02 + 0.07 * k,
        verdict: verdict(0.02 + 0.07 * k),
      })),
    ]),
    importance: abilityFeatures.map((feature, k) => ({ feature, contribution: 0.9 - 0.17 * k })),
    importanceMeasure: '|coefficient| × std of feature (log-odds)',
    contributionImportance: {
      values: abilityFeatures.map((feature, k) => ({ feature, contribution: 0.7 - 0.12 * k })),
      rows: 2500,
    },
  };
  return {
    title: 'repayrisk model report — 2024-06-30 <run & seed>',
    facts: [
      { label: 'Artifact version', value: 'v0007' },
      { label: 'Created at', value: '2024-07-01T06:12:44Z' },
      { label: 'Seed', value: '20240101' },
      { label: 'Data fingerprint', value: 'sha256:9f1c0a7e…41b2' },
      { label: 'Rows (train / validation / out-of-time)', value: '6,000 / 2,000 / 2,500' },
      { label: 'Training window', value: '2023-07-01 – 2024-03-31' },
      { label: 'Out-of-time window', value: '2024-04-01 – 2024-06-30' },
    ],
    models: [willingness, ability],
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** Tag-balance check of one SVG: every opened element is closed in order. Returns the first problem. */
function tagProblem(svg: string): string | undefined {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) return `unexpected </${name}> at ${m.index}`;
  }
  return stack.length ? `unclosed <${stack.join('>, <')}>` : undefined;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** ROC, KS, calibration, distribution, lift, the kind's importance and importance by mean |contribution|. */
const CHARTS_PER_MODEL = 7;
/** Without `contributionImportance` the contribution chart is left out. */
const CHARTS_WITHOUT_CONTRIBUTION = 6;

describe('renderModelReport', () => {
  const input = fixture();
  let html = '';

  beforeAll(async () => {
    html = await renderModelReport(input);
  }, 60_000);

  it('is one HTML document with one inline SVG per chart per model', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(count(html, '<html')).toBe(1);
    expect(count(html, '</html>')).toBe(1);
    expect(count(html, '<body>')).toBe(1);
    const sections = html.split('<section class="model"').slice(1);
    expect(sections).toHaveLength(2);
    for (const s of sections) expect(count(s, '<svg')).toBe(CHARTS_PER_MODEL);
    expect(count(html, '<svg')).toBe(CHARTS_PER_MODEL * input.models.length);
    for (const chart of ['roc', 'ks', 'calibration', 'distribution', 'lift', 'importance', 'contribution']) {
      expect(html).toContain(`<figure id="model-1-${chart}"><svg`);
      expect(html).toContain(`<figure id="model-2-${chart}"><svg`);
    }
  });

  it('gives well-formed SVGs whose ids are unique across the document', () => {
    expect(count(html, '</svg>')).toBe(count(html, '<svg'));
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(14);
    for (const svg of svgs) expect(tagProblem(svg)).toBeUndefined();
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(14);
    expect(ids.filter((id, k) => ids.indexOf(id) !== k)).toEqual([]);
    for (const [, ref] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref);
  });

  it('references nothing outside itself', () => {
    const lower = html.toLowerCase();
    for (const bad of [
      '<script',
      '<link',
      '<img',
      '<iframe',
      '@import',
      'src="http',
      'href="http',
      'url(http',
    ]) {
      expect(lower).not.toContain(bad);
    }
    const urls = new Set(lower.match(/https?:\/\/[^\s"'<>)]+/g));
    expect([...urls].sort()).toEqual(['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
    for (const [, target] of lower.matchAll(/url\(([^)]*)\)/g)) expect(target).toMatch(/^#/);
    for (const [, target] of lower.matchAll(/\s(?:xlink:)?href="([^"]*)"/g)) expect(target).toMatch(/^#/);
    expect(lower).not.toMatch(/\ssrc=/);
  });

  it('escapes text from the input, in tables and inside the charts', () => {
    expect(html).not.toContain('<b>income</b>');
    expect(html).not.toContain('<run & seed>');
    expect(html).toContain('&lt;run &amp; seed&gt;');
    // PSI table and scorecard table of willingness, PSI table of ability, and the importance axis labels.
    expect(count(html, '&lt;b&gt;income&lt;/b&gt;')).toBeGreaterThanOrEqual(5);
    const importance = html.slice(html.indexOf('<figure id="model-1-importance">'));
    expect(importance.slice(0, importance.indexOf('</figure>'))).toContain('&lt;b&gt;income&lt;/b&gt;');
  });

  it("shows importance by mean |contribution| beside the kind's own, captioned with the row count", () => {
    const figure = (k: number, id: string) => {
      const section = html.split('<section class="model"')[k]!;
      const from = section.indexOf(`<figure id="model-${k}-${id}">`);
      expect(from, `model-${k}-${id}`).toBeGreaterThan(-1);
      return section.slice(from, section.indexOf('</figure>', from));
    };
    // Right after the kind's own importance chart, so the two sit side by side.
    const section = html.split('<section class="model"')[1]!;
    expect(section.indexOf('<figure id="model-1-contribution">')).toBeGreaterThan(
      section.indexOf('<figure id="model-1-importance">'),
    );
    const sampled = figure(1, 'contribution');
    expect(sampled).toContain('<svg');
    expect(sampled).toContain('Importance by mean |contribution|');
    // The caption wraps into subtitle lines (one <tspan> each): join the SVG's text nodes with spaces.
    const text = (svg: string) => [...svg.matchAll(/>([^<>]+)</g)].map((m) => m[1]).join(' ');
    expect(text(sampled)).toContain(
      'mean |contribution to log-odds| over a seeded sample of 2,000 of 2,500 out-of-time rows (exact TreeSHAP for gbdt)',
    );
    expect(text(figure(2, 'contribution'))).toContain(
      'mean |contribution to log-odds| over 2,500 out-of-time rows (exact TreeSHAP for gbdt)',
    );
    // The kind's own chart keeps its title and measure.
    const own = figure(1, 'importance');
    expect(own).toContain('Feature importance');
    expect(own).toContain('Mean |contribution| (log-odds)');
    expect(own).not.toContain('TreeSHAP');
    // Features are escaped inside the new chart too.
    expect(sampled).toContain('&lt;b&gt;income&lt;/b&gt;');
  });

  it('renders the headline numbers with their stated precision', () => {
    for (const [k, model] of input.models.entries()) {
      const section = html.split('<section class="model"')[k + 1]!;
      const e = model.evaluation;
      for (const m of [e.train, e.validation, e.outOfTime]) {
        expect(section).toContain(`<td class="n">${m.auc.toFixed(3)}</td>`);
        expect(section).toContain(`<td class="n">${m.ks.toFixed(3)}</td>`);
        expect(section).toContain(`<td class="n">${m.brier.toFixed(4)}</td>`);
        expect(section).toContain(`<td class="n">${((100 * m.positives) / m.rows).toFixed(1)}%</td>`);
      }
      expect(section).toContain(`AUC ${e.outOfTime.auc.toFixed(3)} · out-of-time`);
    }
    const willingness = html.split('<section class="model"')[1]!;
    expect(willingness).toContain('<strong>0.786</strong>');
    expect(willingness).toContain(
      `${signed(input.models[0]!.evaluation.outOfTime.auc - 0.7861, 3)}</strong>`,
    );
    const oot = input.models[0]!.evaluation.outOfTime;
    expect(willingness).toContain(
      `<tr class="chosen"><td>scorecard</td><td class="n">${oot.logLoss.toFixed(4)}</td><td class="n">${oot.auc.toFixed(3)}</td>`,
    );
    expect(willingness).toContain('<h3>Scorecard points</h3>');
    expect(willingness).toContain('<span class="badge act">act</span>');
  });

  it('leaves out the optional parts a model does not have', () => {
    const ability = html.split('<section class="model"')[2]!;
    expect(ability).not.toContain('Candidate kinds');
    expect(ability).not.toContain('Scorecard points');
    expect(ability).not.toContain('Oracle AUC');
    expect(ability).toContain('<span class="badge watch">watch</span>');
  });

  it('gives identical bytes when rendered again', async () => {
    expect(await renderModelReport(fixture())).toBe(html);
  }, 60_000);

  it('says "No data" instead of drawing empty charts, and shows undefined metrics as a dash', async () => {
    const nan: MetricSummary = {
      rows: 0,
      positives: 0,
      auc: NaN,
      ks: NaN,
      gini: NaN,
      brier: NaN,
      logLoss: NaN,
      ece: NaN,
    };
    const empty: ReportedModel = {
      target: 'ability',
      positiveMeans: 'clears the arrears within 90 days',
      kind: 'logistic',
      evaluation: {
        train: nan,
        validation: nan,
        outOfTime: nan,
        roc: { fpr: [], tpr: [] },
        ksCurve: { threshold: [], cumPositives: [], cumNegatives: [], atThreshold: NaN, ks: NaN },
        calibration: [],
        lift: [],
        scoreHistogram: [],
        psi: [],
      },
      importance: [],
      importanceMeasure: 'none',
    };
    const out = await renderModelReport({ title: 'empty', facts: [], models: [empty] });
    expect(count(out, '<svg')).toBe(0);
    expect(count(out, '<figure id="model-1-')).toBe(CHARTS_WITHOUT_CONTRIBUTION);
    expect(count(out, '<p class="muted">No data.</p></figure>')).toBe(CHARTS_WITHOUT_CONTRIBUTION);
    // A contribution importance over no rows is a "No data" figure too.
    const none = await renderModelReport({
      title: 'empty',
      facts: [],
      models: [
        { ...empty, contributionImportance: { values: [{ feature: 'x', contribution: 0 }], rows: 0 } },
      ],
    });
    expect(none).toContain(
      '<figure id="model-1-contribution" class="empty"><h4>Importance by mean |contribution|</h4>',
    );
    expect(out).toContain(
      '<tr><td>Out-of-time</td><td class="n">0</td><td class="n">0</td><td class="n">—</td>',
    );
    expect(out).not.toContain('NaN');
  }, 60_000);
});

describe('renderSvg', () => {
  // A clipped mark makes vega emit a clip path, whose id comes from a process-wide counter.
  const spec: TopLevelSpec = {
    ...ksChart(fixture().models[1]!.evaluation.ksCurve),
    layer: [
      {
        data: {
          values: [
            { x: -1, y: 0.5 },
            { x: 2, y: 0.5 },
          ],
        },
        mark: { type: 'line', clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { domain: [0, 1] } },
          y: { field: 'y', type: 'quantitative' },
        },
      },
    ],
  };

  it('is deterministic in another process and prefixes the ids', async () => {
    await renderSvg(spec); // moves vega's id counters on
    const here = await renderSvg(spec, { idPrefix: 'k-' });
    const script = [
      "import { readFileSync } from 'node:fs';",
      "import { renderSvg } from './src/report/charts.ts';",
      "const spec = JSON.parse(readFileSync(0, 'utf8'));",
      "process.stdout.write(await renderSvg(spec, { idPrefix: 'k-' }));",
    ].join('\n');
    const there = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      input: JSON.stringify(spec),
      encoding: 'utf8',
    });
    expect(there).toBe(here);
    expect(here).toContain('<clipPath id="k-1">');
    expect(here).toContain('clip-path="url(#k-1)"');
    expect(here).not.toMatch(/id="clip\d/);
  }, 60_000);

  it('labels the calibration size legend with round numbers', () => {
    expect(sizeLegendValues(250)).toEqual([100, 200]);
    expect(sizeLegendValues(1000)).toEqual([500, 1000]);
    expect(sizeLegendValues(37)).toEqual([10, 20, 30]);
    expect(sizeLegendValues(0)).toEqual([]);
  });

  it('thins a dense ROC curve but keeps its ends', () => {
    const n = 20_001;
    const fpr = Array.from({ length: n }, (_, i) => i / (n - 1));
    const tpr = fpr.map((x) => Math.sqrt(x));
    const kept = thinCurve([fpr, tpr], 0.002, [777]);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(n - 1);
    expect(kept).toContain(777);
    expect(kept.length).toBeLessThan(1100);
    const values = (rocChart({ fpr, tpr }, 0.667) as { layer: { data: { values: unknown[] } }[] }).layer[1]!
      .data.values;
    expect(values.length).toBe(thinCurve([fpr, tpr], 0.002).length);
  });
});

describe('report text formatting', () => {
  it('formats numbers without depending on the locale and shows undefined metrics as a dash', () => {
    expect(fixed(0.78149, 3)).toBe('0.781');
    expect(fixed(-0.0312, 3)).toBe('−0.031');
    expect(fixed(-0.00001, 3)).toBe('0.000');
    expect(fixed(Number.NaN, 3)).toBe('—');
    expect(signed(0.0123, 3)).toBe('+0.012');
    expect(signed(0, 3)).toBe('0.000');
    expect(percent(0.1234)).toBe('12.3%');
    expect(percent(Number.NaN)).toBe('—');
    expect(integer(1234567)).toBe('1,234,567');
    expect(integer(999)).toBe('999');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
