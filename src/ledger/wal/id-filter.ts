/**
 * A Bloom filter over ledger keys (`d:<decision_id>`, `c:<contact_id>`, `a:<answer_id>`): "certainly not held"
 * or "maybe". An append whose ids and key are all "certainly not" in it skips the store query that would otherwise
 * check them (a few milliseconds of DuckDB per group of appends, the largest cost of an append after the sync).
 * A "maybe" asks the store, so a false positive costs one query and never a wrong answer; the filter only has to
 * hold every key the store holds, which it does while this process is the store's only writer (filled from the
 * store at open, then with every acknowledged record). Sized for `expected` keys at about 1% false positives
 * (10 bits and 7 probes per key); past that the rate rises and only costs queries.
 */
export class IdFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(expected: number) {
    let m = 1 << 20;
    while (m < expected * 10 && m < 1 << 31) m *= 2;
    this.bits = new Uint32Array(m / 32);
    this.mask = m - 1;
  }

  add(key: string): void {
    let [h1, h2] = hashes(key);
    for (let i = 0; i < 7; i++) {
      const b = h1 & this.mask;
      this.bits[b >>> 5]! |= 1 << (b & 31);
      h1 = (h1 + h2) >>> 0;
    }
  }

  /** False when `key` was certainly never added. */
  mayHold(key: string): boolean {
    let [h1, h2] = hashes(key);
    for (let i = 0; i < 7; i++) {
      const b = h1 & this.mask;
      if ((this.bits[b >>> 5]! & (1 << (b & 31))) === 0) return false;
      h1 = (h1 + h2) >>> 0;
    }
    return true;
  }
}

/** Two 32-bit hashes of a string's UTF-16 code units (FNV-1a and a murmur-style mix), for double hashing. */
function hashes(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  return [a >>> 0, (b ^ (b >>> 16)) | 1];
}
