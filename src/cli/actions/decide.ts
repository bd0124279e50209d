import { readFile } from 'node:fs/promises';
import { RepayriskError } from '../../core/errors.ts';
import { decideJsonLines, lineErrorText } from '../../pipeline/decide-jsonl.ts';
import { readPolicyFile } from '../../registry/policy-file.ts';

/** What `repayrisk decide` was given, parsed by commander. */
export interface DecideOptions {
  in: string;
  policy: string;
  now?: number;
  callSlots?: number;
}

/**
 * `repayrisk decide`: one decision per JSON line on stdout, each bad line named on stderr.
 * @throws RepayriskError `invalid_data` when any line was invalid (the others are still decided), `io` when the
 * input cannot be read.
 */
export async function decideAction(o: DecideOptions): Promise<void> {
  const policy = await readPolicyFile(o.policy);
  const text = o.in === '-' ? await readStdin() : await readInput(o.in);
  const slots = o.callSlots === undefined ? undefined : { kind: 'total' as const, slots: o.callSlots };
  // Contacts and dates are checked against the wall clock even when --now replays an earlier instant.
  const clock = Date.now();
  const results = decideJsonLines(text.split('\n'), policy, o.now ?? clock, slots, clock);
  let bad = 0;
  for (const r of results) {
    if ('decision' in r) process.stdout.write(`${JSON.stringify(r.decision)}\n`);
    else {
      bad++;
      process.stderr.write(`${lineErrorText(r.error)}\n`);
    }
  }
  if (bad)
    throw new RepayriskError(
      'invalid_data',
      `${bad} of ${results.length} line(s) of ${o.in} were invalid (named above); the others were decided`,
    );
}

async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new RepayriskError('io', `cannot read ${path}: ${(e as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
