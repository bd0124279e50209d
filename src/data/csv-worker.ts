import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The byte passes a worker thread runs (csv-worker-entry.ts). */
export type WorkerTask = 'cutRange' | 'checkCsvRange';

const ENTRY = new URL('./csv-worker-entry.ts', import.meta.url).href;

/**
 * tsx's ESM API: its `tsImport` loads TypeScript in the worker without registering hooks (a worker does not
 * inherit the tsx the CLI registered through its API).
 */
const TSX_API = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs'),
).href;

/**
 * Runs one byte pass over a range of a CSV file in a worker thread of its own and resolves with its answer.
 * @throws (rejects) when the worker cannot start or the pass throws; callers then run the pass themselves.
 */
export function runInWorker<T>(task: WorkerTask, job: unknown): Promise<T> {
  const code = `const { workerData, parentPort } = require('node:worker_threads');
import(${JSON.stringify(TSX_API)})
  .then(({ tsImport }) => tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(ENTRY)}))
  .then((m) => parentPort.postMessage({ ok: true, result: m.run(workerData.task, workerData.job) }))
  .catch((e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { task, job } });
    w.once('message', (m: { ok: boolean; result?: T; error?: string }) => {
      void w.terminate();
      if (m.ok) resolve(m.result as T);
      else reject(new Error(m.error));
    });
    w.once('error', reject);
  });
}
