// The layers of DESIGN §2, held by reading every import in src/: imports point inward
// (cli -> pipeline -> service -> registry / ledger / data -> core; http -> service), a lower layer never imports a
// higher one, and core imports nothing outside core: no node: module, no I/O package.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = 'src';

/**
 * What each layer (a folder under src/) may import besides itself. This is the whole graph, true to today's
 * code: a new edge is a design decision, made here with its reason, not by an import that slips in.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  data: ['core'],
  registry: ['core'],
  ledger: ['core'],
  // Reports render what the pipeline computed (core types in, HTML out): an adapter beside registry and data.
  report: ['core'],
  service: ['registry', 'ledger', 'data', 'core'],
  http: ['service', 'core'],
  pipeline: ['service', 'registry', 'ledger', 'data', 'report', 'core'],
  // The CLI wires everything: it starts the HTTP server (serve) and opens stores for commands.
  cli: ['pipeline', 'http', 'service', 'registry', 'ledger', 'data', 'report', 'core'],
};

/** Edges outside ALLOWED that are accepted, each for a stated reason. Narrow: a file and type-only imports. */
const EXCEPTIONS: readonly { from: string; to: string; typeOnly: boolean; reason: string }[] = [
  {
    from: 'http',
    to: 'ledger/contract.ts',
    typeOnly: true,
    reason:
      'createApp(deps) is handed a Ledger and route handlers read and append through that interface; http ' +
      'imports its types only, never an implementation (the CLI chooses DuckDB or PostgreSQL)',
  },
];

/** Packages core may use: pure computation, no I/O, no clock, no environment. */
const CORE_PACKAGES = new Set([
  'zod',
  'ml-matrix',
  'yaml',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
]);

interface Import {
  file: string;
  line: number;
  spec: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every static import / re-export and every dynamic import() of a file, with its line. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteral(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ file, line, spec: spec.text, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings : undefined;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined && named !== undefined && named.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0]
    ) {
      add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `src/<layer>/...` -> layer and the path inside src/, or null for a path outside src/. */
function layerOf(path: string): { layer: string; inSrc: string } | null {
  const rel = relative(SRC, path).split(sep).join('/');
  if (rel.startsWith('..')) return null;
  return { layer: rel.split('/')[0]!, inSrc: rel };
}

const FILES = tsFiles(SRC);
const IMPORTS = FILES.flatMap(importsOf);
const where = (i: Import) => `${i.file}:${i.line} imports '${i.spec}'`;

/** One message per import that breaks ALLOWED (and is not an EXCEPTION), naming the file, line and import. */
function layerViolations(imports: readonly Import[]): string[] {
  const bad: string[] = [];
  for (const i of imports) {
    if (!i.spec.startsWith('.')) continue;
    const from = layerOf(i.file)!;
    const to = layerOf(join(dirname(i.file), i.spec));
    if (to === null) {
      bad.push(`${where(i)}: outside src/`);
      continue;
    }
    if (to.layer === from.layer || ALLOWED[from.layer]!.includes(to.layer)) continue;
    const ok = EXCEPTIONS.some(
      (e) => e.from === from.layer && e.to === to.inSrc && (!e.typeOnly || i.typeOnly),
    );
    if (!ok) {
      const may = ALLOWED[from.layer]!.join(', ') || 'nothing outside itself';
      bad.push(`${where(i)}: ${from.layer} may import ${may}`);
    }
  }
  return bad;
}

/** One message per import of a core file that leaves core: a Node module or a package not known to be pure. */
function coreViolations(imports: readonly Import[]): string[] {
  const builtins = new Set(builtinModules);
  const bad: string[] = [];
  for (const i of imports) {
    if (layerOf(i.file)!.layer !== 'core' || i.spec.startsWith('.')) continue;
    if (i.spec.startsWith('node:') || builtins.has(i.spec.split('/')[0]!))
      bad.push(`${where(i)}: a Node module`);
    else if (!CORE_PACKAGES.has(i.spec))
      bad.push(`${where(i)}: a package core does not use (add it to CORE_PACKAGES only if it is pure)`);
  }
  return bad;
}

describe('layering (DESIGN §2)', () => {
  it('finds the source and a rule for every folder under src/', () => {
    expect(FILES.length).toBeGreaterThan(100);
    const layers = new Set(FILES.map((f) => layerOf(f)!.layer));
    expect(
      [...layers].filter((l) => !(l in ALLOWED)),
      'folders under src/ without a layer rule',
    ).toEqual([]);
  });

  it('imports point inward: no layer imports one it is not allowed to', () => {
    const bad = layerViolations(IMPORTS);
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('core imports nothing outside core: no node: module, no I/O package', () => {
    const bad = coreViolations(IMPORTS);
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('names the file and the import of a violation (the checks catch what they must)', () => {
    // Guards the guard: were import parsing broken, the checks above would pass on nothing.
    expect(IMPORTS.filter((i) => i.file.startsWith(join(SRC, 'service'))).length).toBeGreaterThan(5);
    const imp = (file: string, spec: string, typeOnly = false): Import => ({ file, line: 3, spec, typeOnly });
    expect(layerViolations([imp(join(SRC, 'service', 'live.ts'), '../pipeline/train-snapshots.ts')])).toEqual(
      [
        `${join(SRC, 'service', 'live.ts')}:3 imports '../pipeline/train-snapshots.ts': service may import registry, ledger, data, core`,
      ],
    );
    expect(layerViolations([imp(join(SRC, 'data', 'reader.ts'), '../service/live.ts', true)])).toHaveLength(
      1,
    );
    // The one exception is narrow: type-only, and only the ledger's contract.
    expect(layerViolations([imp(join(SRC, 'http', 'app.ts'), '../ledger/contract.ts', true)])).toEqual([]);
    expect(layerViolations([imp(join(SRC, 'http', 'app.ts'), '../ledger/contract.ts')])).toHaveLength(1);
    expect(layerViolations([imp(join(SRC, 'http', 'app.ts'), '../ledger/duckdb.ts', true)])).toHaveLength(1);
    expect(coreViolations([imp(join(SRC, 'core', 'random.ts'), 'node:crypto')])).toHaveLength(1);
    expect(coreViolations([imp(join(SRC, 'core', 'random.ts'), 'fs')])).toHaveLength(1);
    expect(coreViolations([imp(join(SRC, 'core', 'random.ts'), '@duckdb/node-api')])).toHaveLength(1);
    expect(coreViolations([imp(join(SRC, 'core', 'random.ts'), 'zod')])).toEqual([]);
  });
});
