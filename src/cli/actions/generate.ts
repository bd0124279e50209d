import { type FileFormat, generateWorld } from '../../data/generate.ts';
import { progress } from '../progress.ts';

/** What `repayrisk generate` was given, parsed by commander. */
export interface GenerateOptions {
  accounts: number;
  months: number;
  seed: number;
  start: string;
  out: string;
  format: FileFormat;
  payments?: boolean;
}

/** `repayrisk generate`: writes the synthetic world and prints each table's row count. */
export async function generateAction(o: GenerateOptions): Promise<void> {
  const bar = progress('generate');
  const r = await generateWorld({ ...o, onProgress: (d, t) => bar.update(d, t, 'customers') });
  bar.done();
  for (const [t, f] of Object.entries(r.files)) {
    process.stdout.write(
      `${t.padEnd(13)} ${String(r.rows[t as keyof typeof r.rows]).padStart(10)} rows  ${f}\n`,
    );
  }
}
