// Compiles the CLI into dist/cli/ so `repayrisk` starts without tsx (whose hooks cost ~0.5 s of CPU per start):
// `npm run build`, and `npm ci` / `npm install` through the `prepare` script. bin/repayrisk.js runs dist/cli/
// only while its stamp matches the sources (bin/dist-stamp.js), and the TypeScript through tsx otherwise.
//
// One bundle per entry (the CLI and its heap tuning), ES modules split into chunks so each command's
// implementation, imported in its action, stays a chunk loaded only when the command runs. Packages stay
// external: node_modules is resolved at run time, as from the sources. Source maps sit beside the chunks
// (run with NODE_OPTIONS=--enable-source-maps for stack traces in src/ terms).
//
// The trap of bundling: `import.meta.url` would name the chunk in dist/cli/ instead of the source file, and the
// sources find files relative to it (policies/, policies/packs/, package.json, the models folder, the CSV
// worker's entry). So every source's `import.meta.url` is rewritten to its own file's URL, computed from the
// chunk's (all chunks sit in dist/cli/ itself): paths resolve from dist exactly as from src, and the CSV worker
// still loads src/data/csv-worker-entry.ts through tsx's tsImport, as it does when the CLI runs from source.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST_DIR, readStamp, STAMP_FILE, sourceFingerprint } from '../bin/dist-stamp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, DIST_DIR);
const srcDir = join(root, 'src') + sep;

// esbuild comes with tsx (a runtime dependency): taken through tsx, so it is there whenever tsx is, and no
// second copy is declared.
const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
const esbuild = (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as typeof import('esbuild');

// Read before bundling: a source edited while the build runs leaves the stamp behind it, so the build goes unused.
const sources = sourceFingerprint(root);
const previous = readStamp(root);
// No stamp while the build writes: a `repayrisk` started meanwhile runs the sources.
rmSync(join(outdir, STAMP_FILE), { force: true });
mkdirSync(outdir, { recursive: true });

/** Rewrites `import.meta.url` in each source to that source's own URL, derived from the chunk's at run time. */
const sourceUrls: import('esbuild').Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(srcDir)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const fromChunk = relative(outdir, args.path).split(sep).join('/');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`,
        ),
        loader: 'ts',
      };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts', 'heap-tuning': 'src/cli/heap-tuning.ts' },
  outdir,
  entryNames: '[name]',
  // Flat in outdir, next to the entries: the rewritten import.meta.url counts on every chunk sitting there.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Class and function names as in the sources (error names, instanceof messages).
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [sourceUrls],
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(outdir, join(root, p)));
// Files of the build before stay one build longer: a process started on them may still import a lazy chunk.
const keep = new Set([...outputs, ...(previous?.outputs ?? []), STAMP_FILE]);
for (const f of readdirSync(outdir)) if (!keep.has(f)) rmSync(join(outdir, f), { force: true });

const tmp = join(outdir, `${STAMP_FILE}.${process.pid}`);
writeFileSync(tmp, `${JSON.stringify({ sources, outputs })}\n`);
renameSync(tmp, join(outdir, STAMP_FILE));
process.stderr.write(
  `built ${relative(root, outdir)}/ (${outputs.length} files) from ${relative(root, srcDir)}/\n`,
);
