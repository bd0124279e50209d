import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/*
 * The book's scoring worker as one ES module, bundled with esbuild (which comes with tsx) when a run starts
 * workers. A worker that loads the TypeScript sources through tsx's loader hooks spends ~2.5 CPU-s on module
 * loading (every import goes through the hooks thread; measured with --cpu-prof) before it scores an account —
 * more than half of what scoring a 100,000-customer book costs. The bundle is one file with packages left
 * external, loaded with no hooks. Built once per process, written to node_modules/.cache (bare imports resolve
 * from there) for each start and removed once the workers have loaded it.
 */

const ENTRY = fileURLToPath(new URL('./book-worker-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

let built: Promise<string> | null = null;
let seq = 0;

/**
 * A file of the bundled worker module (it runs `serve()` of book-worker-entry.ts when loaded): its URL, and
 * `remove` to call once every worker has loaded it.
 * @throws (rejects) when esbuild is missing or fails: the caller falls back to the TypeScript entry.
 */
export async function bookWorkerBundle(): Promise<{ url: string; remove: () => void }> {
  built ??= build();
  const code = await built;
  const dir = join(ROOT, 'node_modules', '.cache', 'repayrisk');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `book-worker-${process.pid}-${++seq}.mjs`);
  writeFileSync(file, code);
  return { url: pathToFileURL(file).href, remove: () => rmSync(file, { force: true }) };
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
