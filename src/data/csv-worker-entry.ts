// What a worker thread started by csv-worker.ts loads: the byte passes it may be asked to run.
import { checkCsvRange, type RangeJob } from './csv-check.ts';
import { type CutJob, cutRange } from './csv-cut.ts';
import type { WorkerTask } from './csv-worker.ts';

/** Runs the pass `task` names on `job` (a structured clone from the calling thread). */
export function run(task: WorkerTask, job: unknown): unknown {
  return task === 'cutRange' ? cutRange(job as CutJob) : checkCsvRange(job as RangeJob);
}
