import { crc32 } from 'node:zlib';

/**
 * One record on disk: an 8-byte header, then the payload.
 *
 * ```
 * offset 0  u32 LE  payload length in bytes (1 .. MAX_RECORD_BYTES)
 * offset 4  u32 LE  CRC-32 (IEEE 802.3, zlib's) of bytes 0..3 followed by the payload
 * offset 8  payload (UTF-8 JSON)
 * ```
 *
 * The checksum covers the length too, so a torn or flipped length is caught like a torn payload (a length alone
 * could send the reader past real records). CRC-32 rather than CRC-32C: Node ships CRC-32 natively
 * (`zlib.crc32`, C speed), CRC-32C would be JavaScript here; both detect every burst error up to 32 bits, which is
 * what a torn sector or a flipped byte is.
 */
export const HEADER_BYTES = 8;

/** The largest payload a record may hold (64 MiB): a larger length field is damage, not a record. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** The framed bytes of one payload. */
export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length === 0 || payload.length > MAX_RECORD_BYTES)
    throw new RangeError(`a log record holds 1..${MAX_RECORD_BYTES} bytes; got ${payload.length}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc32(payload, crc32(out.subarray(0, 4))), 4);
  return out;
}

/** What reading one frame at an offset found. */
export type FrameRead =
  | { ok: true; payload: Buffer; end: number }
  | { ok: false; reason: 'torn' | 'checksum'; detail: string };

/**
 * Reads the frame at `offset` of `buf`. `torn`: the header or the payload it announces runs past the end of the
 * bytes (a write cut short) or the length is impossible; `checksum`: the bytes are all there but do not match.
 */
export function readFrame(buf: Buffer, offset: number): FrameRead {
  if (offset + HEADER_BYTES > buf.length)
    return {
      ok: false,
      reason: 'torn',
      detail: `a header needs ${HEADER_BYTES} bytes, ${buf.length - offset} left`,
    };
  const length = buf.readUInt32LE(offset);
  const stored = buf.readUInt32LE(offset + 4);
  if (length === 0 || length > MAX_RECORD_BYTES)
    return { ok: false, reason: 'checksum', detail: `impossible record length ${length}` };
  const end = offset + HEADER_BYTES + length;
  if (end > buf.length)
    return {
      ok: false,
      reason: 'torn',
      detail: `the record announces ${length} bytes, ${buf.length - offset - HEADER_BYTES} left`,
    };
  const payload = buf.subarray(offset + HEADER_BYTES, end);
  const sum = crc32(payload, crc32(buf.subarray(offset, offset + 4)));
  if (sum !== stored)
    return {
      ok: false,
      reason: 'checksum',
      detail: `CRC-32 ${stored.toString(16).padStart(8, '0')} stored, ${sum.toString(16).padStart(8, '0')} computed`,
    };
  return { ok: true, payload, end };
}
