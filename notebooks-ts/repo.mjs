// Loads the repo's TypeScript modules (ESM, `.ts` import extensions) into a tslab notebook.
// tslab compiles each cell to CommonJS and runs it with vm, where `import()` is unavailable and its own
// TypeScript cannot see files outside the notebook folder. Node >= 20.19 can `require` this ES module, and
// from here tsx's `tsImport` loads any file under src/ with the project's own module semantics.
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

/** The repository root (the folder above notebooks-ts/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Imports a module of the repo by its path from the root, e.g. `src/data/summary.ts`. */
export function importSrc(path) {
  return tsImport(pathToFileURL(resolve(ROOT, path)).href, import.meta.url);
}

const escapeHtml = (v) =>
  String(v).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Formats a cell: numbers to `digits` places (shares as given), everything else as text. */
function cell(v, digits) {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(digits);
  return v ?? '';
}

/** An HTML table of plain row objects (the columns of the first row), for `tslab.display.html`. */
export function htmlTable(rows, { digits = 3, caption } = {}) {
  if (!rows.length) return '<p><em>(no rows)</em></p>';
  const cols = Object.keys(rows[0]);
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td>${escapeHtml(cell(r[c], digits))}</td>`).join('')}</tr>`)
    .join('\n');
  const cap = caption ? `<caption>${escapeHtml(caption)}</caption>` : '';
  return `<table>${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A whole HTML document (e.g. a model's report.html) shown inside an iframe, so its styles stay its own. */
export function htmlFrame(doc, height = 800) {
  return `<iframe srcdoc="${escapeHtml(doc)}" style="width:100%;height:${height}px;border:1px solid #ccc"></iframe>`;
}
