import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_DOC_PATH, fillExamples, renderApiExamples } from './helpers/api-examples.ts';

/**
 * docs/api.md shows real answers of the current code and the committed champion (issue 14: its examples showed a
 * champion no longer committed). The page is compared with a fresh run, never only written: `npm run docs`
 * rewrites the examples when this fails for a reason that is intended.
 */
describe('docs/api.md', () => {
  it('holds exactly the examples a run against the committed champion gives', async () => {
    const page = readFileSync(API_DOC_PATH, 'utf8');
    const examples = await renderApiExamples();
    const filled = fillExamples(page, examples);
    expect(filled.unknown, 'markers with no example').toEqual([]);
    expect(filled.missing, 'examples with no marker in the page').toEqual([]);
    expect(page === filled.page, 'docs/api.md examples differ from a fresh run: run `npm run docs`').toBe(
      true,
    );
  });

  it('names only the committed champion', () => {
    const champion = readFileSync('models/repayrisk/CHAMPION', 'utf8').trim();
    // Every version the page names, except the made-up broken candidate a refused reload names.
    const lines = readFileSync(API_DOC_PATH, 'utf8')
      .split('\n')
      .filter((l) => !l.includes('checksum mismatch'));
    const versions = new Set(lines.flatMap((l) => l.match(/\bv[0-9a-f]{12}\b/g) ?? []));
    expect([...versions]).toEqual([champion]);
  });
});
