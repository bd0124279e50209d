import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root, for paths named in the generated module. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The rule packs shipped with repayrisk (`policies/packs/`). */
export const PACKS_DIR = join(ROOT, 'policies', 'packs');

/** The core module that carries the pack files' text, so `parsePolicy` stays pure and synchronous. */
export const BUILTIN_PACKS_MODULE = join(ROOT, 'src', 'core', 'policy', 'packs', 'builtin.ts');

/** Every `*.yaml` of a packs folder, by name, with its path relative to the repository. */
export function readPackFiles(dir: string = PACKS_DIR): { path: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      path: relative(ROOT, join(dir, f)).split('\\').join('/'),
      text: readFileSync(join(dir, f), 'utf8'),
    }));
}

/**
 * The text of `src/core/policy/packs/builtin.ts` for the pack files as they are now: the YAML files are the one
 * source, the module their copy (test/policy-packs-load.test.ts fails when it is stale;
 * `npx tsx scripts/write-packs.ts` rewrites it).
 */
export function renderBuiltinPacks(
  files: readonly { path: string; text: string }[] = readPackFiles(),
): string {
  const entries = files.map(
    (f) => `  {\n    path: ${JSON.stringify(f.path)},\n    text: ${JSON.stringify(f.text)},\n  },`,
  );
  return (
    '// Generated from policies/packs/*.yaml by `npx tsx scripts/write-packs.ts`: do not edit. The YAML files are the\n' +
    '// source; test/policy-packs-load.test.ts fails when this copy is stale.\n\n' +
    '/** The text of every rule pack file shipped with repayrisk, parsed strictly by `builtinPacks()`. */\n' +
    `export const BUILTIN_PACK_FILES: readonly { path: string; text: string }[] = [\n${entries.join('\n')}\n];\n`
  );
}
