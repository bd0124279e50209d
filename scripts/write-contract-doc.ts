// Regenerates docs/data-contract.md from the table specs: `npm run docs:contract`.
import { writeFileSync } from 'node:fs';
import { CONTRACT_DOC_PATH, contractDoc } from '../src/data/contract-doc-text.ts';

writeFileSync(CONTRACT_DOC_PATH, contractDoc());
process.stdout.write(`wrote ${CONTRACT_DOC_PATH}\n`);
