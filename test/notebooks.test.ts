import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** True when `jupyter kernelspec list` works and lists the tslab kernel. */
function tslabKernel(): boolean {
  try {
    return /^\s*tslab\s/m.test(
      execFileSync('jupyter', ['kernelspec', 'list'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
  } catch {
    return false;
  }
}

const available = tslabKernel();
const notebooks = readdirSync('notebooks-ts').filter((f) => f.endsWith('.ipynb'));

describe('notebooks-ts', () => {
  (available ? it : it.skip)(
    available
      ? 'every notebook executes headless with the tslab kernel and has no error output'
      : 'skipped: jupyter/tslab not installed — CI installs them',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'notebooks-'));
      const run = spawnSync('bash', ['scripts/run-notebooks.sh'], {
        encoding: 'utf8',
        env: { ...process.env, NOTEBOOK_OUT: out },
      });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      for (const nb of notebooks) {
        const done = JSON.parse(readFileSync(join(out, nb), 'utf8')) as {
          cells: { cell_type: string; outputs?: { output_type: string }[] }[];
        };
        const code = done.cells.filter((c) => c.cell_type === 'code');
        expect(code.length, nb).toBeGreaterThan(0);
        const errors = code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error');
        expect(errors, `${nb} has error outputs`).toEqual([]);
      }
    },
    // Five notebooks, one of which fits two small worlds' scoring and response models: minutes on a shared CI box.
    900_000,
  );

  it('every committed notebook carries its outputs (scripts/refresh-notebooks.sh), none of them an error', () => {
    for (const nb of notebooks) {
      const saved = JSON.parse(readFileSync(join('notebooks-ts', nb), 'utf8')) as {
        cells: { cell_type: string; outputs?: { output_type: string }[] }[];
      };
      const outputs = saved.cells.filter((c) => c.cell_type === 'code').flatMap((c) => c.outputs ?? []);
      expect(outputs.length, `${nb}: no outputs; run scripts/refresh-notebooks.sh`).toBeGreaterThan(0);
      expect(
        outputs.filter((o) => o.output_type === 'error'),
        `${nb} was saved with an error`,
      ).toEqual([]);
    }
  });
});
