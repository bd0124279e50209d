// What a book scoring worker (book-workers.ts) runs: loads the models and policy once, then decides chunks.
import { parentPort, workerData } from 'node:worker_threads';
import { CopyArchives } from '../data/copy-archives.ts';
import { loadBatchState } from './batch-state.ts';
import { decideChunk, decideCopyRange } from './book-chunk.ts';
import { unpackArchives } from './book-pack.ts';
import type { ChunkJob, CopyDayJob, RangeJob, WorkerSetup } from './book-workers.ts';

/** Loads the state the calling thread named, says ready, and answers each chunk it is sent in order. */
export async function serve(): Promise<void> {
  const port = parentPort!;
  const setup = workerData as WorkerSetup;
  const state = await loadBatchState({ model: setup.model, policy: setup.policy });
  if (state.champion.version !== setup.expect.model)
    throw new Error(
      `${setup.model} holds ${state.champion.version}, not the ${setup.expect.model} being scored`,
    );
  if (JSON.stringify(state.policy.document) !== setup.expect.policy)
    throw new Error(
      `${setup.policy} is not the policy being scored with (it changed, or was not read from it)`,
    );
  let copy: { archives: CopyArchives; ns: Int32Array } | null = null;
  port.on('message', (job: ChunkJob | CopyDayJob | RangeJob) => {
    if ('kind' in job && job.kind === 'day') {
      copy = { archives: new CopyArchives(job.day), ns: job.ns };
      return;
    }
    try {
      let result: ReturnType<typeof decideChunk>;
      if ('kind' in job) {
        if (!copy) throw new Error('a range of a history copy came before its date');
        result = decideCopyRange(
          copy.archives,
          job.from,
          job.to,
          copy.ns,
          state,
          job.now,
          job.runId,
          job.deferRationed,
        );
      } else
        result = decideChunk(unpackArchives(job.chunk), job.ns, state, job.now, job.runId, job.deferRationed);
      port.postMessage({ id: job.id, ok: true, result });
    } catch (e) {
      port.postMessage({ id: job.id, ok: false, error: String((e as Error).stack ?? e) });
    }
  });
  port.postMessage({ ready: true });
}
