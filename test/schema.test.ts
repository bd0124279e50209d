import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cellParser, isIsoDate, isIsoTimestamp } from '../src/core/schema/columns.ts';
import { TABLES } from '../src/core/schema/tables.ts';
import { CONTRACT_DOC_PATH, contractDoc } from '../src/data/contract-doc-text.ts';

describe('data contract schemas', () => {
  it('accept real calendar dates only', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(isIsoDate('2024-13-01')).toBe(false);
    expect(isIsoDate('2024-1-01')).toBe(false);
    expect(isIsoTimestamp('2024-03-01T14:05:00Z')).toBe(true);
    expect(isIsoTimestamp('2024-03-01T14:05:00.123+05:30')).toBe(true);
    expect(isIsoTimestamp('2024-03-01T14:05:00')).toBe(false); // no offset: ambiguous instant
    expect(isIsoTimestamp('2024-03-01T24:05:00Z')).toBe(false);
  });

  it('parse a file cell and validate a JSON value the same way, for every column', () => {
    // For each column: a value the file parser accepts must be accepted by the zod schema, and vice versa.
    const samples = [
      '',
      'x',
      '0',
      '1',
      '-1',
      '2.5',
      '-0.01',
      '17',
      '1e3',
      'true',
      'false',
      'card',
      'sms',
      'hold',
      'delivered',
      'employed',
      '2024-02-29',
      '2024-02-30',
      '2024-03-01T14:05:00Z',
      '130',
      '0.5',
      '1.5',
    ];
    for (const table of Object.values(TABLES)) {
      for (const c of table.columns) {
        const parse = cellParser(c);
        const zod = table.schema.shape[c.name as keyof typeof table.schema.shape] as {
          safeParse(v: unknown): { success: boolean };
        };
        for (const raw of samples) {
          const r = parse(raw);
          if (r.ok) expect(zod.safeParse(r.value).success, `${table.name}.${c.name} '${raw}'`).toBe(true);
        }
        expect(zod.safeParse(undefined).success, `${table.name}.${c.name} undefined`).toBe(false);
        expect(zod.safeParse(null).success).toBe(c.nullable);
        expect(parse('').ok).toBe(c.nullable);
      }
    }
  });

  it('derive static row types that a JSON account must satisfy', () => {
    const bad = TABLES.accounts.schema.safeParse({ account_id: '', product: 'mortgage', days_past_due: -3 });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('account_id');
    expect(paths).toContain('product');
    expect(paths).toContain('days_past_due');
    expect(paths).toContain('customer_id');
  });

  it('are documented: docs/data-contract.md is what the specs render to (npm run docs)', () => {
    expect(readFileSync(CONTRACT_DOC_PATH, 'utf8')).toBe(contractDoc());
  });
});
