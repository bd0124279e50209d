import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { RepayriskError } from '../../core/errors.ts';
import { decideJsonLines, lineErrorText } from '../../pipeline/decide-jsonl.ts';
import { DEFAULT_POLICY_PATH, readPolicyFile } from '../../registry/policy-file.ts';
import { instantOption, intOption } from '../options.ts';

export function registerDecide(program: Command): void {
  program
    .command('decide')
    .description(
      'decide treatments for accounts given as JSON lines ({"account", "scores", "contacts"}); prints one decision per line',
    )
    .requiredOption('--in <file>', 'JSON-lines input ("-" for stdin)')
    .option('--policy <file>', 'policy file (YAML or JSON)', DEFAULT_POLICY_PATH)
    .option(
      '--now <iso-time>',
      'decision time, ISO 8601 with offset (default: the current time)',
      instantOption,
    )
    .option(
      '--call-slots <n>',
      "human-call slots for the day (default: the policy's capacity)",
      intOption('--call-slots', 0),
    )
    .action(async (o: { in: string; policy: string; now?: number; callSlots?: number }) => {
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
    });
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
