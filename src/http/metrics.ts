/**
 * A small Prometheus registry (text exposition format 0.0.4). Each app owns one: no module-level state, so two
 * apps in one process (tests, blue/green) never share counters.
 */

type Labels = Readonly<Record<string, string>>;

/** Escapes a label value as the exposition format requires (backslash, double quote, newline). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], labels: Labels, extra?: [string, string]): string {
  const parts = names.map((n) => `${n}="${escapeLabel(labels[n] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const keyOf = (names: readonly string[], labels: Labels) => names.map((n) => labels[n] ?? '').join('\u0000');

function formatNumber(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

interface Metric {
  render(): string[];
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(this.labelNames, labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by;
    else this.values.set(k, { labels, value: by });
  }

  /** The current value for a label set (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values())
      out.push(`${this.name}${labelText(this.labelNames, labels)} ${formatNumber(value)}`);
    return out;
  }
}

/** Observations counted into cumulative buckets, with their sum and count, per label set. */
export class Histogram implements Metric {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    /** Upper bounds, ascending; +Inf is implied. */
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = keyOf(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    // Buckets are cumulative in the exposition; here each counts its own range and render() sums them up.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cum = 0;
      this.buckets.forEach((b, i) => {
        cum += s.counts[i]!;
        out.push(
          `${this.name}_bucket${labelText(this.labelNames, s.labels, ['le', formatNumber(b)])} ${cum}`,
        );
      });
      out.push(`${this.name}_bucket${labelText(this.labelNames, s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, s.labels)} ${formatNumber(s.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** A gauge whose samples are read when scraped (e.g. which model version is live). */
export class CollectedGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly collect: () => readonly { labels: Labels; value: number }[],
  ) {}

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of this.collect())
      out.push(`${this.name}${labelText(this.labelNames, labels)} ${formatNumber(value)}`);
    return out;
  }
}

/** Latency buckets in seconds: 5 ms (health) up to 10 s (a full batch on a cold ledger). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Buckets of the micro-batch size histogram (requests per batch). */
const MICRO_BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;

/** The content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the service reports; one instance per app. */
export class ServiceMetrics {
  readonly requests = new Counter(
    'repayrisk_http_requests_total',
    'HTTP requests answered, by route and status.',
    ['method', 'route', 'status'],
  );
  readonly latency = new Histogram(
    'repayrisk_http_request_duration_seconds',
    'Time from receiving a request to sending its response, in seconds.',
    ['method', 'route'],
    LATENCY_BUCKETS,
  );
  readonly decisions = new Counter(
    'repayrisk_decisions_total',
    'Decisions recorded in the ledger and returned, by treatment.',
    ['treatment'],
  );
  readonly guardrails = new Counter(
    'repayrisk_guardrail_hits_total',
    'Guardrails that fired on returned decisions, by guardrail name.',
    ['guardrail'],
  );
  readonly scoreItems = new Counter(
    'repayrisk_score_items_total',
    'Accounts received by POST /v1/score: ok (valid), invalid (failed validation); unscorable counts valid ones the model gave no score.',
    ['status'],
  );
  readonly contacts = new Counter(
    'repayrisk_contacts_recorded_total',
    'Contact attempts recorded in the ledger.',
  );
  readonly ledgerFailures = new Counter(
    'repayrisk_ledger_failures_total',
    'Ledger reads or writes that failed (the request answered 503), by operation.',
    ['operation'],
  );
  readonly reloads = new Counter(
    'repayrisk_reloads_total',
    'Reloads of models and policy, by result (ok | refused: a part was refused and the old one kept).',
    ['result'],
  );
  readonly microBatch = new Histogram(
    'repayrisk_score_micro_batch_size',
    'Single-account POST /v1/score requests decided together in one micro-batch (one ledger append).',
    [],
    MICRO_BATCH_BUCKETS,
  );
  private readonly all: Metric[];

  constructor(live: () => { models: { role: string; version: string }[]; policyVersion: string }) {
    const modelInfo = new CollectedGauge(
      'repayrisk_model_info',
      'The live model versions (1 per role: champion decides, challenger scores in shadow).',
      ['role', 'version'],
      () => live().models.map((m) => ({ labels: { role: m.role, version: m.version }, value: 1 })),
    );
    const policyInfo = new CollectedGauge(
      'repayrisk_policy_info',
      'The live policy version.',
      ['version'],
      () => [{ labels: { version: live().policyVersion }, value: 1 }],
    );
    this.all = [
      this.requests,
      this.latency,
      this.decisions,
      this.guardrails,
      this.scoreItems,
      this.contacts,
      this.ledgerFailures,
      this.reloads,
      this.microBatch,
      modelInfo,
      policyInfo,
    ];
  }

  /** Every metric in the Prometheus text format. */
  render(): string {
    return `${this.all.flatMap((m) => m.render()).join('\n')}\n`;
  }
}
