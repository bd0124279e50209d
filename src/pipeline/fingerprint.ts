import { createHash } from 'node:crypto';

/** sha256 over the bytes of typed arrays, in order: a fingerprint of exactly what a model was trained on. */
export function fingerprint(...arrays: ArrayBufferView[]): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}
