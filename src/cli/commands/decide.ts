import type { Command } from 'commander';
import { DEFAULT_POLICY_PATH } from '../../registry/policy-path.ts';
import type { DecideOptions } from '../actions/decide.ts';
import { instantOption, intOption } from '../options.ts';

/** Declares `repayrisk decide`; its implementation (policy parser, decision core) loads only when it runs. */
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
    .action(async (o: DecideOptions) => (await import('../actions/decide.ts')).decideAction(o));
}
