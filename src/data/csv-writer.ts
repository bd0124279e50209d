import { closeSync, openSync, writeSync } from 'node:fs';
import type { TableSpec } from '../core/schema/columns.ts';

type Cell = string | number | boolean | null;

const FLUSH_BYTES = 1 << 20;

/** Quotes a text cell only when it has to (comma, quote or line break), as RFC 4180 says. */
function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** One CSV line (with its line end) of positional cells, as `CsvTableWriter.write` writes it. */
export function csvLine(row: readonly Cell[]): string {
  let line = csvCell(row[0] ?? null);
  for (let i = 1; i < row.length; i++) line += `,${csvCell(row[i] ?? null)}`;
  return `${line}\n`;
}

/**
 * Writes one table as CSV with a header in the spec's column order, buffering ~1 MiB between writes so large
 * worlds stream to disk with flat memory. Rows are positional and must match the spec's columns.
 */
export class CsvTableWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private bytes = 0;
  private readonly width: number;
  rows = 0;

  constructor(
    readonly path: string,
    readonly spec: TableSpec,
  ) {
    this.fd = openSync(path, 'w');
    this.width = spec.columns.length;
    this.push(`${spec.columns.map((c) => c.name).join(',')}\n`);
  }

  write(row: readonly Cell[]): void {
    if (row.length !== this.width) {
      throw new Error(`${this.spec.name}: row has ${row.length} cells, the table has ${this.width} columns`);
    }
    this.push(csvLine(row));
    this.rows++;
  }

  /**
   * Appends `rows` lines already made by `csvLine` (e.g. on another thread), each with its line end; the caller
   * vouches that every line has the spec's width.
   */
  writeLines(text: string, rows: number): void {
    this.push(text);
    this.rows += rows;
  }

  private push(s: string): void {
    this.parts.push(s);
    this.bytes += s.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.bytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
