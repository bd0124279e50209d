import { Command, CommanderError } from 'commander';
import { RepayriskError } from '../core/errors.ts';
import { ModelError } from '../core/models/contract.ts';
import { registerBacktest } from './commands/backtest.ts';
import { registerDecide } from './commands/decide.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerIngest } from './commands/ingest.ts';
import { registerKeys } from './commands/keys.ts';
import { registerPromote } from './commands/promote.ts';
import { registerScore } from './commands/score.ts';
import { registerServe } from './commands/serve.ts';
import { registerSummary } from './commands/summary.ts';
import { registerTrain } from './commands/train.ts';
import { registerValidate } from './commands/validate.ts';

/** Exit codes: 0 ok, 1 failure while running, 2 bad arguments or bad input data, 3 promotion refused. */
export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;

export function buildProgram(): Command {
  const program = new Command('repayrisk')
    .description('Repayment-risk scoring and strategy for consumer-credit collections')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerGenerate(program);
  registerValidate(program);
  registerIngest(program);
  registerSummary(program);
  registerTrain(program);
  registerEvaluate(program);
  registerPromote(program);
  registerScore(program);
  registerDecide(program);
  registerServe(program);
  registerKeys(program);
  registerBacktest(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (help and version exit with code 0).
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof RepayriskError) {
      process.stderr.write(`repayrisk: ${e.message}\n`);
      if (e.code === 'refused') return EXIT.refused;
      return e.code === 'io' ? EXIT.failure : EXIT.usage;
    }
    if (e instanceof ModelError) {
      process.stderr.write(`repayrisk: ${e.message}\n`);
      return EXIT.failure;
    }
    process.stderr.write(`repayrisk: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.ts')) {
  process.exitCode = await run(process.argv.slice(2));
}
