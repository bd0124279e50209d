import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/*
 * A byte-level pass over a history CSV in the store's fixed dialect (RFC 4180: comma, double quote doubled to
 * escape, LF or CRLF line ends, a header line). It never names an error: it only proves a file well-formed (every
 * record has the header's field count, quotes close, UTF-8, no stray quote) so the cheap path can be taken. On
 * anything it is not sure of it answers "not sure" and the caller falls back to DuckDB's reader, which names the
 * malformed line. DuckDB tokenises and materialises every cell of every row as text before a filter can drop it
 * (1.2 CPU-s per million 31-column rows, more than half of a `validate`); this pass reads about a byte per
 * nanosecond and touches only the fields asked for.
 */

/** Per record: where each field's text starts and ends in `buf`, and 1 where it was quoted (2: with "" inside). */
export interface CsvRecord {
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  quoted: Uint8Array;
  /** The record's bytes, line end included. */
  from: number;
  to: number;
}

/**
 * Calls `onRecord` for every data record of a CSV file (`onHeader` for the header line) and returns how many there
 * were, or null when the file is not plainly well-formed (a record without exactly `fields` fields, a quote inside
 * an unquoted field or text after a closing one, an unterminated quote, a bare CR, a NUL byte, a line over 1 MiB,
 * bytes that are not UTF-8) or `onRecord` returned false. The record view is reused: read it inside the call.
 */
export function scanCsv(
  path: string,
  fields: number,
  onRecord: (r: CsvRecord) => boolean,
  opts: ScanOptions = {},
): ScanResult | null {
  const fd = openSync(path, 'r');
  try {
    return scanFd(fd, fields, onRecord, opts);
  } finally {
    closeSync(fd);
  }
}

export interface ScanOptions {
  onHeader?: (r: CsvRecord) => void;
  /** Byte range to scan (default the whole file); `from` must start a line. */
  from?: number;
  to?: number;
  /** Whether the range starts with the header line (default true). */
  header?: boolean;
  /** Called before the bytes of records already handed out are moved or overwritten. */
  beforeRefill?: () => void;
}

export interface ScanResult {
  /** Data records seen. */
  rows: number;
  /** Whether any field was quoted (a range split at a line end is then not known to start a record). */
  quoted: boolean;
}

const CHUNK = 8 << 20;
const MAX_RECORD = 1 << 20;
/** Bytes that end an unquoted field's plain run: comma, LF, CR, quote, NUL. */
const STOP = new Uint8Array(256);
for (const c of [44, 10, 13, 34, 0]) STOP[c] = 1;

function scanFd(
  fd: number,
  fields: number,
  onRecord: (r: CsvRecord) => boolean,
  opts: ScanOptions,
): ScanResult | null {
  const onHeader = opts.onHeader;
  let at = opts.from ?? 0; // file position of the next read
  const stop = opts.to ?? Number.POSITIVE_INFINITY;
  let sawQuote = false;
  let buf = Buffer.allocUnsafe(CHUNK);
  let n = 0; // bytes held in buf
  let eof = false;
  let p = 0; // start of the next record
  let header = opts.header ?? true;
  let count = 0;
  const rec: CsvRecord = {
    buf,
    starts: new Int32Array(fields),
    ends: new Int32Array(fields),
    quoted: new Uint8Array(fields),
    from: 0,
    to: 0,
  };
  const { starts, ends, quoted } = rec;
  for (;;) {
    // Keep the unfinished record, read more after it.
    if (!eof) {
      opts.beforeRefill?.();
      if (p > 0) {
        buf.copy(buf, 0, p, n);
        n -= p;
        p = 0;
      }
      if (n === buf.length) {
        if (buf.length >= MAX_RECORD * 2) return null;
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
        rec.buf = buf;
      }
      const got = readSync(fd, buf, n, Math.min(buf.length - n, stop - at), at);
      if (got === 0) eof = true;
      n += got;
      at += got;
    }
    const checkedFrom = p;
    // Records wholly inside buf[p, n).
    for (;;) {
      if (p >= n) break;
      let i = p;
      let f = 0;
      let done = false; // a whole record was read
      let more = false; // it runs past the bytes held
      for (;;) {
        if (f === fields) return null; // a field too many
        if (i < n && buf[i] === 34) {
          let j = i + 1;
          let q = 1;
          sawQuote = true;
          for (;;) {
            j = buf.indexOf(34, j);
            if (j < 0 || j >= n) break;
            if (j + 1 < n && buf[j + 1] === 34) {
              j += 2;
              q = 2;
              continue;
            }
            break;
          }
          if (j < 0 || j >= n || (j + 1 >= n && !eof)) {
            if (eof) return null; // unterminated quote
            more = true;
            break;
          }
          starts[f] = i + 1;
          ends[f] = j;
          quoted[f] = q;
          i = j + 1;
        } else {
          let j = i;
          while (j < n) {
            const c = buf[j]!;
            // Most bytes (digits, letters, '-', '.') are above ',' (44): one comparison.
            if (c > 44 || STOP[c] === 0) j++;
            else break;
          }
          if (j >= n && !eof) {
            more = true;
            break;
          }
          if (j < n && (buf[j] === 34 || buf[j] === 0)) return null;
          starts[f] = i;
          ends[f] = j;
          quoted[f] = 0;
          i = j;
        }
        f++;
        if (i >= n) {
          // eof here: the last line has no line end
          done = true;
          break;
        }
        const c = buf[i];
        if (c === 44) {
          i++;
          continue;
        }
        if (c === 10) {
          i++;
          done = true;
          break;
        }
        if (c === 13) {
          if (i + 1 < n && buf[i + 1] === 10) {
            i += 2;
            done = true;
            break;
          }
          if (i + 1 >= n && !eof) {
            more = true;
            break;
          }
          return null; // a bare CR
        }
        return null; // text after a closing quote
      }
      if (more) {
        if (n - p > MAX_RECORD) return null;
        break;
      }
      if (!done || f !== fields || i - p > MAX_RECORD) return null;
      rec.from = p;
      rec.to = i;
      p = i;
      if (header) {
        header = false;
        onHeader?.(rec);
      } else {
        count++;
        if (!onRecord(rec)) return null;
      }
    }
    // Records end on a line end, so whole characters lie between two record starts.
    if (!isUtf8(buf.subarray(checkedFrom, p))) return null;
    if (eof) return p >= n ? { rows: count, quoted: sawQuote } : null;
  }
}

/**
 * Collects whole records into a file. Records kept one after another in the scan buffer are copied as one run
 * (a copy is a native call: one per record cost more than the bytes); `flush()` must run before the scan buffer's
 * bytes move (ScanOptions.beforeRefill).
 */
export class CsvWriter {
  private readonly fd: number;
  private readonly out = Buffer.allocUnsafe(4 << 20);
  private used = 0;
  private run: Buffer | null = null;
  private runFrom = 0;
  private runTo = 0;
  rows = 0;

  constructor(path: string, header: Uint8Array) {
    this.fd = openSync(path, 'w');
    this.write(Buffer.from(header), 0, header.length);
  }

  keep(r: CsvRecord): void {
    this.rows++;
    if (this.run === r.buf && this.runTo === r.from) this.runTo = r.to;
    else {
      this.flush();
      this.run = r.buf;
      this.runFrom = r.from;
      this.runTo = r.to;
    }
    if (r.buf[r.to - 1] !== 10) {
      this.flush();
      this.write(NEWLINE, 0, 1);
    }
  }

  /** Copies the pending run of records out of the scan buffer. */
  flush(): void {
    if (this.run) this.write(this.run, this.runFrom, this.runTo);
    this.run = null;
  }

  private write(b: Buffer, from: number, to: number): void {
    const len = to - from;
    if (this.used + len > this.out.length) this.drain();
    if (len > this.out.length) {
      writeSync(this.fd, b, from, len);
      return;
    }
    b.copy(this.out, this.used, from, to);
    this.used += len;
  }

  private drain(): void {
    let at = 0;
    while (at < this.used) at += writeSync(this.fd, this.out, at, this.used - at);
    this.used = 0;
  }

  close(): void {
    this.flush();
    this.drain();
    closeSync(this.fd);
  }
}

const NEWLINE = Buffer.from('\n');

/** The text of field `f` of a record (quotes removed, doubled quotes undone); empty text is ''. */
export function fieldText(r: CsvRecord, f: number): string {
  const s = r.buf.toString('utf8', r.starts[f]!, r.ends[f]!);
  return r.quoted[f] === 2 ? s.replaceAll('""', '"') : s;
}
