// What a worker thread started by csv-worker.ts loads: the byte passes it may be asked to run.
import { checkCsvRange, type RangeJob } from './csv-check.ts';
import { type CutJob, cutRange } from './csv-cut.ts';
import { type FactsJob, snapshotFactsRange } from './csv-facts.ts';
import type { WorkerTask } from './csv-worker.ts';

/** Runs the pass `task` names on `job` (a structured clone from the calling thread). */
export function run(task: WorkerTask, job: unknown): unknown {
  if (task === 'cutRange') return cutRange(job as CutJob);
  if (task === 'snapshotFacts') return snapshotFactsRange(job as FactsJob);
  return checkCsvRange(job as RangeJob);
}
