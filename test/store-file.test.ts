// The history copy's file format (src/data/store-file.ts): what a failed write leaves, and that the failure the
// user sees is the one that happened.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreFile, StoreFileWriter } from '../src/data/store-file.ts';
import { tmpDir } from './helpers/tmp.ts';

const dir = tmpDir('repayrisk-store-file-');

describe('StoreFileWriter', () => {
  it('reads back what it wrote', () => {
    const path = join(dir, 'ok.rrstore');
    const w = new StoreFileWriter(path, 1);
    w.add('xs', Int32Array.of(3, 1, 4));
    w.addJson('names', ['a', 'b']);
    w.finish({ kind: 'test' });
    const f = StoreFile.open(path, 1);
    try {
      expect(f.meta).toEqual({ kind: 'test' });
      expect([...f.read('xs', 'i32')]).toEqual([3, 1, 4]);
      expect(f.readJson('names')).toEqual(['a', 'b']);
    } finally {
      f.close();
    }
  });

  it('a finish that fails reports its own error; the abort after it does not replace it, and the file stays invalid', () => {
    const path = join(dir, 'failed.rrstore');
    const w = new StoreFileWriter(path, 1);
    w.add('xs', Int32Array.of(1));
    let seen: unknown = null;
    try {
      w.finish({ size: 1n }); // a header that cannot be written (JSON has no BigInt)
    } catch (e) {
      seen = e;
      w.abort(); // what a caller does on any failure: once closed by finish, it must not close again (EBADF)
    }
    expect(String(seen)).toMatch(/BigInt/);
    expect(() => StoreFile.open(path, 1)).toThrow();
  });
});
