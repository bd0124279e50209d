import { type ColumnSpec, cellParser, DATE_YEARS } from '../core/schema/columns.ts';
import { type CsvRecord, fieldText } from './csv-scan.ts';

/**
 * True when field `f` of a record is a cell the data contract accepts for its column. The common forms (plain
 * digits with an optional sign and point, ISO dates, the flag spellings, enum values, non-empty ids) are judged
 * on the bytes; every other cell is decoded and judged by `cellParser` itself, so the answer is the contract's
 * (test/cell-bytes.test.ts holds it equal to `cellParser`).
 */
export type FieldCheck = (r: CsvRecord, f: number) => boolean;

/** Exact powers of ten (every one up to 1e22 is a double exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The check of one contract column's cells as CSV bytes. */
export function fieldCheck(col: ColumnSpec): FieldCheck {
  const parse = cellParser(col);
  const nullable = col.nullable;
  const slow = (r: CsvRecord, f: number) => {
    const s = fieldText(r, f);
    return parse(s === '' ? null : s).ok;
  };
  const k = col.kind;
  const inRange = (v: number) => (k.type === 'int' || k.type === 'number') && ok(v, k.min, k.max);
  switch (k.type) {
    case 'id':
    case 'text':
      return nullable ? () => true : (r, f) => (r.quoted[f] ? slow(r, f) : r.ends[f]! > r.starts[f]!);
    case 'enum': {
      const values = k.values.map((v) => Buffer.from(v, 'utf8'));
      return (r, f) => {
        const s = r.starts[f]!;
        const e = r.ends[f]!;
        if (r.quoted[f] || e === s) return slow(r, f);
        for (const v of values) if (same(r.buf, s, e, v)) return true;
        return slow(r, f);
      };
    }
    case 'int':
    case 'number': {
      const point = k.type === 'number';
      return (r, f) => {
        const b = r.buf;
        let i = r.starts[f]!;
        const e = r.ends[f]!;
        if (r.quoted[f]) return slow(r, f);
        if (i === e) return nullable;
        const neg = b[i] === 45;
        if (neg) i++;
        let m = 0;
        let digits = 0;
        let frac = -1; // digits after the point, -1 before it
        for (; i < e; i++) {
          const c = b[i]!;
          if (c >= 48 && c <= 57) {
            m = m * 10 + (c - 48);
            digits++;
            if (frac >= 0) frac++;
          } else if (c === 46 && point && frac < 0) frac = 0;
          else return slow(r, f);
        }
        // Up to 15 digits the mantissa and the power of ten are exact, so the quotient is the correctly rounded
        // value Number() gives; longer cells go the slow way.
        if (digits === 0 || digits > 15) return slow(r, f);
        const v = frac > 0 ? m / POW10[frac]! : m;
        return inRange(neg ? -v : v);
      };
    }
    case 'date':
      return (r, f) => {
        const b = r.buf;
        const s = r.starts[f]!;
        const e = r.ends[f]!;
        if (r.quoted[f]) return slow(r, f);
        if (e === s) return nullable;
        if (e - s !== 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return slow(r, f);
        let y = 0;
        let mo = 0;
        let d = 0;
        for (let i = 0; i < 10; i++) {
          if (i === 4 || i === 7) continue;
          const c = b[s + i]! - 48;
          if (c < 0 || c > 9) return slow(r, f);
          if (i < 4) y = y * 10 + c;
          else if (i < 7) mo = mo * 10 + c;
          else d = d * 10 + c;
        }
        return validYmd(y, mo, d);
      };
    case 'bool': {
      // The contract's eight spellings (cellParser): anything else is refused.
      const words = ['true', 'TRUE', 'True', 'false', 'FALSE', 'False'].map((w) => Buffer.from(w));
      return (r, f) => {
        const b = r.buf;
        const s = r.starts[f]!;
        const e = r.ends[f]!;
        if (r.quoted[f]) return slow(r, f);
        if (e === s) return nullable;
        if (e - s === 1) return b[s] === 49 || b[s] === 48;
        for (const w of words) if (same(b, s, e, w)) return true;
        return false;
      };
    }
    case 'timestamp':
      // The form exports write, 2024-01-05T10:00:00Z with an optional fraction of 1-9 digits, on the bytes; every
      // other form (offsets, a space, no seconds) the slow way.
      return (r, f) => {
        const b = r.buf;
        const s = r.starts[f]!;
        const e = r.ends[f]!;
        if (r.quoted[f]) return slow(r, f);
        if (e === s) return nullable;
        const len = e - s;
        if (len < 20 || b[e - 1] !== 90 || b[s + 10] !== 84) return slow(r, f);
        if (len > 20) {
          if (b[s + 19] !== 46 || len - 21 < 1 || len - 21 > 9) return slow(r, f);
          for (let i = s + 20; i < e - 1; i++) if (b[i]! < 48 || b[i]! > 57) return slow(r, f);
        }
        let v = 0;
        const parts = [0, 0, 0, 0, 0, 0];
        for (let i = 0, part = 0; i < 19; i++) {
          const c = b[s + i]!;
          if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16) {
            if (c !== (i < 10 ? 45 : i === 10 ? 84 : 58)) return slow(r, f);
            parts[part++] = v;
            v = 0;
            continue;
          }
          if (c < 48 || c > 57) return slow(r, f);
          v = v * 10 + (c - 48);
          if (i === 18) parts[part] = v;
        }
        return (
          validYmd(parts[0]!, parts[1]!, parts[2]!) && parts[3]! < 24 && parts[4]! < 60 && parts[5]! < 60
        );
      };
  }
}

/** buf[s, e) holds the bytes of `w` (a loop: Buffer.compare is a native call, dearer than a few bytes). */
function same(buf: Buffer, s: number, e: number, w: Uint8Array): boolean {
  if (e - s !== w.length) return false;
  for (let i = 0; i < w.length; i++) if (buf[s + i] !== w[i]) return false;
  return true;
}

function ok(v: number, min?: number, max?: number): boolean {
  return (min === undefined || v >= min) && (max === undefined || v <= max);
}

const DIM = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validYmd(y: number, mo: number, d: number): boolean {
  if (y < DATE_YEARS.min || y > DATE_YEARS.max || mo < 1 || mo > 12 || d < 1) return false;
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
  return d <= DIM[mo - 1]! + (leap ? 1 : 0);
}
