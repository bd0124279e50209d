import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { RepayriskError } from '../core/errors.ts';

/*
 * The container of the history copy (history-copy.ts): named typed-array segments behind one JSON header.
 *
 *   bytes 0..7    magic "RRSTORE\n"
 *   bytes 8..11   format version (uint32 LE)
 *   bytes 12..15  header length in bytes (uint32 LE)
 *   bytes 16..23  header offset (float64 LE: files past 4 GiB)
 *   bytes 24..55  sha256 of the header
 *   segments      each at an 8-byte aligned offset, little-endian, checked by its CRC-32 when it is read
 *   header        JSON after the last segment: the caller's metadata and the segment table (name, type, offset,
 *                 length, crc32); written last, with the prefix, so a file cut short has no valid header
 *
 * Loading is strict: a wrong magic or version, a header that fails its digest, a segment outside the file, of
 * another length than its table says or failing its CRC is an error naming the file and what is wrong, so a
 * truncated or corrupt copy is never read as data. CRC-32 (zlib, C speed: ~1 GB/s) is per segment so a run reads
 * and checks only the segments it uses.
 */

const MAGIC = Buffer.from('RRSTORE\n', 'latin1');
const PREFIX = 56;

/** Element types a segment can hold. */
export type SegmentType = 'f64' | 'i32' | 'u8' | 'json';
export type SegmentArray = Float64Array | Int32Array | Uint8Array;

interface SegmentEntry {
  name: string;
  type: SegmentType;
  offset: number;
  /** Elements (bytes for json). */
  length: number;
  crc: number;
}

const WIDTH: Record<SegmentType, number> = { f64: 8, i32: 4, u8: 1, json: 1 };

const typeOf = (a: SegmentArray): SegmentType =>
  a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u8';

/**
 * Writes a store file segment by segment; `finish` writes the header after them and the prefix naming it last,
 * so a file cut short by a crash has no valid header and is refused when loaded.
 */
export class StoreFileWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly segments: SegmentEntry[] = [];
  private readonly names = new Set<string>();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly version: number,
  ) {
    this.fd = openSync(path, 'w');
    writeAll(this.fd, Buffer.alloc(PREFIX), 0); // an all-zero prefix until the header is written: no magic yet
    this.offset = PREFIX;
  }

  /** Appends a typed array as segment `name`. */
  add(name: string, a: SegmentArray): void {
    this.put(name, typeOf(a), Buffer.from(a.buffer, a.byteOffset, a.byteLength), a.length);
  }

  /** Appends a JSON value as segment `name` (dictionaries of strings). */
  addJson(name: string, value: unknown): void {
    const b = Buffer.from(JSON.stringify(value), 'utf8');
    this.put(name, 'json', b, b.length);
  }

  private put(name: string, type: SegmentType, bytes: Buffer, length: number): void {
    if (this.names.has(name)) throw new Error(`store segment '${name}' written twice`);
    this.names.add(name);
    writeAll(this.fd, bytes, this.offset);
    this.segments.push({ name, type, offset: this.offset, length, crc: crc32(bytes) });
    this.offset = align(this.offset + bytes.length);
  }

  /** Writes the header (`meta` plus the segment table), then the prefix, fsyncs and closes the file. */
  finish(meta: Record<string, unknown>): void {
    try {
      const header = Buffer.from(JSON.stringify({ meta, segments: this.segments }), 'utf8');
      const prefix = Buffer.alloc(PREFIX);
      MAGIC.copy(prefix, 0);
      prefix.writeUInt32LE(this.version, 8);
      prefix.writeUInt32LE(header.length, 12);
      prefix.writeDoubleLE(this.offset, 16);
      createHash('sha256').update(header).digest().copy(prefix, 24);
      writeAll(this.fd, header, this.offset);
      fsyncSync(this.fd);
      writeAll(this.fd, prefix, 0);
      fsyncSync(this.fd);
    } finally {
      this.close();
    }
  }

  /** Closes the file without a header (it stays invalid); for failures, also after a `finish` that threw. */
  abort(): void {
    this.close();
  }

  /** Closes the descriptor once: a second close could close a number another file has been given since. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  get file(): string {
    return this.path;
  }
}

/** A store file opened strictly: header checked; segments read (and CRC-checked) on demand. */
export class StoreFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly size: number,
    readonly meta: Record<string, unknown>,
    private readonly segments: Map<string, SegmentEntry>,
  ) {}

  /**
   * Opens `path` and checks its magic, its format `version` and its header's digest.
   * @throws RepayriskError('invalid_data') naming the file and what is wrong; ('io') when unreadable.
   */
  static open(path: string, version: number): StoreFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new RepayriskError('io', `cannot read ${path}: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      const bad = (why: string) =>
        new RepayriskError(
          'invalid_data',
          `${path} is not a usable history copy: ${why}; build it again with repayrisk ingest`,
        );
      const prefix = readAt(fd, 0, PREFIX);
      if (prefix.length < PREFIX || !prefix.subarray(0, 8).equals(MAGIC))
        throw bad(
          prefix.length < PREFIX
            ? `${size} bytes, shorter than a header`
            : 'not a history copy (wrong magic)',
        );
      const v = prefix.readUInt32LE(8);
      if (v !== version) throw bad(`format version ${v}, this repayrisk reads version ${version}`);
      const n = prefix.readUInt32LE(12);
      const at = prefix.readDoubleLE(16);
      const header = readAt(fd, at, n);
      if (header.length < n)
        throw bad(`truncated: the header at byte ${at} needs ${n} bytes, the file has ${size}`);
      if (!createHash('sha256').update(header).digest().equals(prefix.subarray(24, 56)))
        throw bad('the header fails its sha256 (corrupt)');
      const h = JSON.parse(header.toString('utf8')) as {
        meta: Record<string, unknown>;
        segments: SegmentEntry[];
      };
      const segments = new Map(h.segments.map((s) => [s.name, s]));
      for (const s of h.segments)
        if (s.offset + s.length * WIDTH[s.type] > size)
          throw bad(
            `truncated: segment '${s.name}' ends at byte ${s.offset + s.length * WIDTH[s.type]} of ${size}`,
          );
      return new StoreFile(path, fd, size, h.meta, segments);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  has(name: string): boolean {
    return this.segments.has(name);
  }

  /**
   * Segment `name` as its typed array, into memory of its own (a SharedArrayBuffer with `shared`, so worker
   * threads read it without a copy).
   * @throws RepayriskError('invalid_data') when it is missing, of another type, or fails its CRC.
   */
  read(name: string, type: 'f64', shared?: boolean): Float64Array;
  read(name: string, type: 'i32', shared?: boolean): Int32Array;
  read(name: string, type: 'u8', shared?: boolean): Uint8Array;
  read(name: string, type: Exclude<SegmentType, 'json'>, shared?: boolean): SegmentArray;
  read(name: string, type: Exclude<SegmentType, 'json'>, shared = false): SegmentArray {
    const s = this.entry(name, type);
    const bytes = s.length * WIDTH[type];
    const mem = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const view = new Uint8Array(mem);
    this.fill(s, view);
    return type === 'f64' ? new Float64Array(mem) : type === 'i32' ? new Int32Array(mem) : view;
  }

  /** A JSON segment, parsed. */
  readJson(name: string): unknown {
    const s = this.entry(name, 'json');
    const b = Buffer.alloc(s.length);
    this.fill(s, b);
    return JSON.parse(b.toString('utf8'));
  }

  close(): void {
    closeSync(this.fd);
  }

  private entry(name: string, type: SegmentType): SegmentEntry {
    const s = this.segments.get(name);
    if (!s || s.type !== type)
      throw new RepayriskError(
        'invalid_data',
        `${this.path}: segment '${name}' (${type}) is ${s ? `of type ${s.type}` : 'missing'}; build the copy again with repayrisk ingest`,
      );
    return s;
  }

  private fill(s: SegmentEntry, into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, s.offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done < into.length || crc32(into) !== s.crc)
      throw new RepayriskError(
        'invalid_data',
        `${this.path}: segment '${s.name}' is ${done < into.length ? `truncated (${done} of ${into.length} bytes; the file has ${this.size})` : 'corrupt (CRC-32 mismatch)'}; build the copy again with repayrisk ingest`,
      );
  }
}

function align(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function writeAll(fd: number, b: Uint8Array, position: number): void {
  let done = 0;
  while (done < b.length) done += writeSync(fd, b, done, b.length - done, position + done);
}

function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, b, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return b.subarray(0, done);
}
