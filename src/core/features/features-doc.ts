import type { FeatureDef } from './definitions.ts';

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
    '| # | feature | type | tag | from | meaning |',
    '|---|---|---|---|---|---|',
  ];
  defs.forEach((f, i) => {
    const type = f.type === 'categorical' ? `categorical (${(f.categories ?? []).join(', ')})` : 'numeric';
    lines.push(`| ${i + 1} | \`${f.name}\` | ${type} | ${f.tag} | ${f.source} | ${f.description} |`);
  });
  return `${lines.join('\n')}\n`;
}
