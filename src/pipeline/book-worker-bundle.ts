import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/*
 * The book's scoring worker as one ES module, bundled with esbuild (which comes with tsx) when a run starts
 * workers. A worker that loads the TypeScript sources through tsx's loader hooks spends ~2.5 CPU-s on module
 * loading (every import goes through the hooks thread; measured with --cpu-prof) before it scores an account —
 * more than half of what scoring a 100,000-customer book costs. The bundle is one file with packages left
 * external, loaded with no hooks. Kept in node_modules/.cache (bare imports resolve from there) under a digest of
 * every file under src/ with its mtime and size (a stat walk of a few milliseconds, as bin/dist-stamp.js judges
 * the compiled CLI), so it is built again (~0.6 s of wall before the workers can start) only when a source changed.
 */

const ENTRY = fileURLToPath(new URL('./book-worker-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * The bundled worker module (it runs `serve()` of book-worker-entry.ts when loaded): its URL, built when the
 * sources changed since the cached one.
 * @throws (rejects) when esbuild is missing or fails, or the cache cannot be written: the caller falls back to
 *   the TypeScript entry.
 */
export async function bookWorkerBundle(): Promise<{ url: string }> {
  const key = createHash('sha256').update(sourcesStamp(SRC)).digest('hex').slice(0, 16);
  const dir = join(ROOT, 'node_modules', '.cache', 'repayrisk');
  const file = join(dir, `book-worker-${key}.mjs`);
  if (!existsSync(file)) {
    const code = await build();
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
    // Bundles of older sources go (a process still starting from one has loaded it by then or falls back).
    for (const f of readdirSync(dir))
      if (/^book-worker-[0-9a-f]{16}\.mjs$/.test(f) && join(dir, f) !== file)
        rmSync(join(dir, f), { force: true });
  }
  return { url: pathToFileURL(file).href };
}

async function build(): Promise<string> {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esbuild = (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as typeof import('esbuild');
  const r = await esbuild.build({
    stdin: {
      contents: `import { parentPort } from 'node:worker_threads';
import { serve } from ${JSON.stringify(ENTRY)};
serve().catch((e) => parentPort.postMessage({ ready: false, error: String((e && e.stack) || e) }));`,
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'book-worker.ts',
    },
    write: false,
    outfile: 'book-worker.mjs',
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    logLevel: 'silent',
    plugins: [
      {
        // Sources find files relative to themselves (policies/, packs, models): each keeps its own URL.
        name: 'source-import-meta-url',
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, (args) => {
            if (!args.path.startsWith(SRC)) return undefined;
            const text = readFileSync(args.path, 'utf8');
            return {
              contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
              loader: 'ts',
            };
          });
        },
      },
    ],
  });
  return r.outputFiles[0]!.text;
}

/** Every file under `dir` with its modification time and size, one per line, in a fixed order. */
function sourcesStamp(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        lines.push(`${p}\t${st.mtimeMs}\t${st.size}`);
      }
    }
  };
  walk(dir);
  return lines.join('\n');
}
