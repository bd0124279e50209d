// Whether the compiled CLI in dist/cli/ was built from the sources as they are now. The build
// (scripts/build-cli.ts) writes a stamp listing every source file with its modification time and size, read
// before it bundles; `repayrisk` runs dist/cli/ only when a fresh walk gives the same list, so an edit, a new
// file, a deleted file or a checkout of other sources makes it run the TypeScript instead: never older code.
// Plain JavaScript, because bin/repayrisk.js reads it before any TypeScript loader is in place.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where the build puts the compiled CLI, relative to the package root. */
export const DIST_DIR = join('dist', 'cli');

/** The stamp file in DIST_DIR: written last by a build, so a build cut short leaves none and is not used. */
export const STAMP_FILE = '.stamp.json';

/**
 * Files outside src/ that change what the build makes: the compiler settings, the build script and this module
 * (how freshness is judged).
 */
const BUILD_INPUTS = ['tsconfig.json', join('scripts', 'build-cli.ts'), join('bin', 'dist-stamp.js')];

/**
 * One line per file under `src/` plus the build inputs (path, mtime in ms, size), in a fixed order.
 * A stat walk over ~200 files: a few milliseconds, against ~0.5 s of CPU that running the TypeScript costs.
 * @param {string} root the package root (absolute path)
 * @returns {string}
 */
export function sourceFingerprint(root) {
  const lines = [];
  const walk = (rel) => {
    const entries = readdirSync(join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else lines.push(line(root, p));
    }
  };
  walk('src');
  for (const p of BUILD_INPUTS) lines.push(line(root, p));
  return lines.join('\n');
}

/** @param {string} root @param {string} rel */
function line(root, rel) {
  const s = statSync(join(root, rel), { throwIfNoEntry: false });
  return s === undefined ? `${rel}\tmissing` : `${rel}\t${s.mtimeMs}\t${s.size}`;
}

/**
 * The stamp a build left, or undefined when there is none (never built, or a build in progress or cut short).
 * @param {string} root
 * @returns {{ sources: string, outputs: string[] } | undefined}
 */
export function readStamp(root) {
  let text;
  try {
    text = readFileSync(join(root, DIST_DIR, STAMP_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text);
    return typeof s.sources === 'string' && Array.isArray(s.outputs) ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether dist/cli/ holds a complete build of the sources as they are now.
 * @param {string} root the package root (absolute path)
 * @returns {boolean}
 */
export function distIsFresh(root) {
  const stamp = readStamp(root);
  return stamp !== undefined && stamp.sources === sourceFingerprint(root);
}
