/**
 * Champion/challenger assignment by a stable hash of the account id: the same account lands in the same arm
 * on every call, in every process, for as long as the salt and share stay the same.
 */

/**
 * FNV-1a (32-bit) of a string's UTF-16 code units, finished with murmur3's fmix32, as a fraction in [0, 1).
 * The finaliser matters: FNV alone leaves its top bits poorly mixed when ids differ only in their last
 * characters (ACC-000001, ACC-000002 …), which skewed a 20% split to 17.6%.
 */
export function stableFraction(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** The arm of `accountId` in an experiment giving `challengerShare` of accounts to the challenger. */
export function armOf(accountId: string, salt: string, challengerShare: number): 'champion' | 'challenger' {
  return stableFraction(`${salt}:${accountId}`) < challengerShare ? 'challenger' : 'champion';
}
