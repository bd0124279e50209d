import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { RepayriskError } from '../core/errors.ts';

/**
 * sha256 of files' bytes, streamed in order: over all of them (what a book run's id digests: the history copy
 * records it, the files' path computes it, and the two must agree) and of each file alone; every chunk is also
 * handed to `see`.
 * @throws RepayriskError('io') naming a file that cannot be read.
 */
export async function digestFiles(
  paths: readonly string[],
  see?: (b: Buffer) => void,
): Promise<{ all: string; each: string[] }> {
  const all = createHash('sha256');
  const each: string[] = [];
  for (const path of paths) {
    const one = createHash('sha256');
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        const b = chunk as Buffer;
        all.update(b);
        one.update(b);
        see?.(b);
      }
    } catch (e) {
      throw new RepayriskError('io', `cannot read ${path}: ${(e as Error).message}`);
    }
    each.push(one.digest('hex'));
  }
  return { all: all.digest('hex'), each };
}
