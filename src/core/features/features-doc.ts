import { ARCHIVE_LOOKBACK, type FeatureDef } from './definitions.ts';
import type { Lookback } from './lookback.ts';

/** A feature's lookback as the docs show it: "instalments 365 d, contacts 90 d", or "snapshot only". */
export function lookbackText(lb: Lookback): string {
  const parts = [];
  if (lb.installmentsDays !== undefined) parts.push(`instalments ${lb.installmentsDays} d`);
  if (lb.contactsDays !== undefined) parts.push(`contacts ${lb.contactsDays} d`);
  return parts.length ? parts.join(', ') : 'snapshot only';
}

/** Renders docs/features.md from the feature definitions, so the list cannot drift from the code. */
export function renderFeaturesDoc(defs: readonly FeatureDef[]): string {
  const lines = [
    '# Features',
    '',
    '<!-- Generated from src/core/features/definitions.ts by `npm run docs`; a test fails when it is stale. -->',
    '',
    'The point-in-time features of a delinquent snapshot, in model column order, built by one function',
    '(`src/core/features/builder.ts`) for training, batch scoring and the API alike. For a snapshot dated',
    '`as_of_date` it reads only instalments due before that date (counting a payment only when `paid_date` (or `first_paid_date`) is',
    'before it) and contacts made before its midnight UTC; a test plants future instalments, payments and',
    'contacts and checks no feature moves. Missing values stay missing (NaN) and each model kind treats them as',
    'a value of their own (a missing indicator, or a bin). Tags say which latent a feature mostly speaks to:',
    '**ability** (can the customer pay), **willingness** (will they), or **both**.',
    '',
    '## Lookback',
    '',
    'Each feature declares how far back it reads (`lookback` in the definitions) and the builder computes it with',
    'exactly that window, taken from the definition. A window of *N* days holds the instalments with `due_date` in',
    '`[as_of_date − N days, as_of_date)`, read with the payments recorded on them, and the contacts with `ts` in',
    'the *N* days before `as_of_date` 00:00 UTC. No feature reads older history: recency features look only inside',
    'their window (`days_since_last_contact_12m` is missing when there was no contact in its 365 days, and',
    '`months_since_last_payment_12m` is missing when no instalment due in its 365 days was paid towards). They read',
    'the whole history before and were renamed when bounded, so an artifact fit on the old values fails strict',
    'loading (its feature schema names the old features) instead of being fed different ones.',
    '',
    `The largest windows — **${ARCHIVE_LOOKBACK.installmentsDays} days of instalments and ${ARCHIVE_LOOKBACK.contactsDays} days of contacts** — are`,
    '`ARCHIVE_LOOKBACK`: the archive the score API asks for (docs/api.md), and the window of recorded contacts the',
    'service merges from its ledger. `test/feature-parity.test.ts` holds features and scores computed from the whole',
    'history equal, bit for bit, to those computed from archives cut to these windows, and checks that a row just',
    "outside a feature's window does not move it while one just inside does.",
    '',
    '| # | feature | type | tag | from | lookback | meaning |',
    '|---|---|---|---|---|---|---|',
  ];
  defs.forEach((f, i) => {
    const type = f.type === 'categorical' ? `categorical (${(f.categories ?? []).join(', ')})` : 'numeric';
    lines.push(
      `| ${i + 1} | \`${f.name}\` | ${type} | ${f.tag} | ${f.source} | ${lookbackText(f.lookback)} | ${f.description} |`,
    );
  });
  return `${lines.join('\n')}\n`;
}
