// The loader hands the store the rows' bytes the log wrote (record once): joining several ops' bytes must give the
// JSON of all their rows, in order, exactly as serialising them together would.
import { describe, expect, it } from 'vitest';
import { joinJsonArrays, rowsJsonText } from '../src/ledger/wal/store.ts';

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('joinJsonArrays', () => {
  it('joins the rows of several logged ops into one JSON array, multi-byte text and nested values intact', () => {
    const a = [{ id: 'd1', reasons: ['30–59 days past due'], offer: { apr: 0.15, n: null } }];
    const b = [
      { id: 'd2', reasons: [], offer: null },
      { id: 'd3', agent: 'Zoë "Z" \\ 北', drivers: { w: ['a (+1)'] } },
    ];
    const c = [{ id: 'd4', x: [[1], []] }];
    const out = joinJsonArrays([bytes(a), bytes(b), bytes(c)]);
    expect(JSON.parse(Buffer.from(out!).toString('utf8'))).toEqual([...a, ...b, ...c]);
  });

  it('hands back a lone part as it is, and says null when any op has no bytes (read back at open)', () => {
    const one = bytes([{ id: 'x' }]);
    expect(joinJsonArrays([one])).toBe(one);
    expect(joinJsonArrays([one, null])).toBeNull();
    expect(joinJsonArrays([])).toBeNull();
  });

  it('refuses a part that is not the text of a non-empty JSON array', () => {
    expect(() => joinJsonArrays([bytes([1]), bytes([])])).toThrow(/non-empty JSON array/);
    expect(() => joinJsonArrays([bytes([1]), bytes({ a: 1 })])).toThrow(/non-empty JSON array/);
  });
});

describe('rowsJsonText', () => {
  it('writes each lone surrogate as U+FFFD, and leaves pairs, escaped backslashes and other text as JSON.stringify does', () => {
    const rows = [
      {
        lone: 'a\ud800b',
        low: '\udc00',
        pair: 'x😀y',
        text: 'back\\ud800 slash',
        both: '\\\ud800',
        plain: 'Zoë 北',
      },
    ];
    const out = JSON.parse(rowsJsonText(rows));
    expect(out).toEqual([
      {
        lone: 'a\ufffdb',
        low: '\ufffd',
        pair: 'x😀y',
        text: 'back\\ud800 slash',
        both: '\\\ufffd',
        plain: 'Zoë 北',
      },
    ]);
    const clean = [{ id: 'd1', reasons: ['30–59 days past due'], agent: 'Zoë \\ud800' }];
    expect(rowsJsonText(clean)).toBe(JSON.stringify(clean));
  });
});
