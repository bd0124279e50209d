// Regenerates the docs that are rendered from code: `npm run docs`.
import { writeFileSync } from 'node:fs';
import { FEATURES } from '../src/core/features/definitions.ts';
import { renderFeaturesDoc } from '../src/core/features/features-doc.ts';
import { CONTRACT_DOC_PATH, contractDoc } from '../src/data/contract-doc-text.ts';

writeFileSync(CONTRACT_DOC_PATH, contractDoc());
writeFileSync('docs/features.md', renderFeaturesDoc(FEATURES));
process.stdout.write(`wrote ${CONTRACT_DOC_PATH} and docs/features.md\n`);
