import { BUILTIN_PACK_FILES } from './builtin.ts';
import { type Pack, parsePackText } from './schema.ts';

let builtin: ReadonlyMap<string, Pack> | null = null;

/**
 * The rule packs shipped with repayrisk (`policies/packs/*.yaml`), by name, each validated strictly on first
 * use. The files are the source; `builtin.ts` carries their text so the core reads no file.
 * @throws PackError naming the file and every problem, should a shipped pack be invalid.
 */
export function builtinPacks(): ReadonlyMap<string, Pack> {
  if (!builtin) {
    const m = new Map<string, Pack>();
    for (const f of BUILTIN_PACK_FILES) {
      const p = parsePackText(f.text, f.path);
      m.set(p.pack, p);
    }
    builtin = m;
  }
  return builtin;
}
