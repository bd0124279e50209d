// Regenerates the docs that are rendered from code: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { FEATURES } from '../src/core/features/definitions.ts';
import { renderFeaturesDoc } from '../src/core/features/features-doc.ts';
import { CONTRACT_DOC_PATH, contractDoc } from '../src/data/contract-doc-text.ts';
import { API_DOC_PATH, fillExamples, renderApiExamples } from '../test/helpers/api-examples.ts';

writeFileSync(CONTRACT_DOC_PATH, contractDoc());
writeFileSync('docs/features.md', renderFeaturesDoc(FEATURES));
// The API examples are real answers of the app (the committed champion, the default policy, a fixed clock).
const filled = fillExamples(readFileSync(API_DOC_PATH, 'utf8'), await renderApiExamples());
if (filled.unknown.length || filled.missing.length)
  throw new Error(
    `${API_DOC_PATH}: markers without an example: ${filled.unknown.join(', ') || 'none'}; examples without a marker: ${filled.missing.join(', ') || 'none'}`,
  );
writeFileSync(API_DOC_PATH, filled.page);
process.stdout.write(`wrote ${CONTRACT_DOC_PATH}, docs/features.md and the examples in ${API_DOC_PATH}\n`);
