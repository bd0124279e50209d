// Rewrites src/core/policy/packs/builtin.ts from policies/packs/*.yaml (the rule packs' one source).
import { writeFileSync } from 'node:fs';
import { parsePackText } from '../src/core/policy/packs/schema.ts';
import { BUILTIN_PACKS_MODULE, readPackFiles, renderBuiltinPacks } from '../src/registry/pack-files.ts';

const files = readPackFiles();
for (const f of files) parsePackText(f.text, f.path); // refuse to copy a pack that would not load
writeFileSync(BUILTIN_PACKS_MODULE, renderBuiltinPacks(files));
process.stdout.write(`wrote ${BUILTIN_PACKS_MODULE} (${files.length} packs)\n`);
