import type { Command } from 'commander';
import { SCOPES } from '../../http/scopes.ts';
import type { CreateOptions } from '../actions/keys.ts';
import { listOption } from '../options.ts';

/** Declares `repayrisk keys`; the keys file reader and writer load only when a subcommand runs. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage the API keys file `serve` reads (hashes only)');
  keys
    .command('create')
    .description(
      'make a new API key: its SHA-256 is appended to the keys file, the key itself is printed once (to stderr)',
    )
    .requiredOption('--id <id>', 'names the key in logs, metrics and rate limits (1-64 of A-Z a-z 0-9 . _ -)')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, listOption('--scopes'))
    .option(
      '--file <file>',
      'keys file (YAML or JSON), created when absent; default $REPAYRISK_API_KEYS_FILE or keys.yaml',
    )
    .action(async (o: CreateOptions) => (await import('../actions/keys.ts')).createKeyAction(o));
}
