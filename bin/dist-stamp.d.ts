// Types of bin/dist-stamp.js (plain JavaScript, run before any TypeScript loader), for the build script and bench.

/** Where the build puts the compiled CLI, relative to the package root. */
export const DIST_DIR: string;
/** The stamp file in DIST_DIR, written last by a build. */
export const STAMP_FILE: string;
/** One line per file under src/ plus the build inputs (path, mtime in ms, size), in a fixed order. */
export function sourceFingerprint(root: string): string;
/** The stamp a build left, or undefined when there is none (never built, or a build in progress or cut short). */
export function readStamp(root: string): { sources: string; outputs: string[] } | undefined;
/** Whether dist/cli/ holds a complete build of the sources as they are now. */
export function distIsFresh(root: string): boolean;
