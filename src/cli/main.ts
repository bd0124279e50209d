import { Command, CommanderError } from 'commander';
import { RepayriskError } from '../core/errors.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerSummary } from './commands/summary.ts';
import { registerValidate } from './commands/validate.ts';

/** Exit codes: 0 ok, 1 failure while running, 2 bad arguments or bad input data. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function buildProgram(): Command {
  const program = new Command('repayrisk')
    .description('Repayment-risk scoring and strategy for consumer-credit collections')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerGenerate(program);
  registerValidate(program);
  registerSummary(program);
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
      return e.code === 'io' ? EXIT.failure : EXIT.usage;
    }
    process.stderr.write(`repayrisk: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.ts')) {
  process.exitCode = await run(process.argv.slice(2));
}
