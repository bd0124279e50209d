import * as fs from 'node:fs';

/**
 * The few file operations the write-ahead log uses, as one object passed in, so a test can wrap them and see the
 * order of writes, syncs and acknowledgements (the in-process equivalent of `strace -e trace=write,fdatasync`)
 * or make one fail. The default is Node's `fs` (libuv thread pool; `fdatasync` is the `fdatasync(2)` syscall).
 */
export interface WalFs {
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /**
   * Opens for appending (`O_WRONLY | O_CREAT | O_APPEND`) and returns the descriptor. With `dsync`, also
   * `O_DSYNC`: each `write` returns only once its bytes (and the metadata needed to read them back) are on stable
   * storage, the guarantee `fdatasync` gives, in the same system call.
   */
  openAppend(path: string, dsync?: boolean): Promise<number>;
  /** Opens for reading and writing (no create), for cutting a tail and syncing it. */
  openReadWrite(path: string): Promise<number>;
  /** Writes `length` bytes of `buf` from `offset`; resolves to how many were written (maybe fewer). */
  write(fd: number, buf: Buffer, offset: number, length: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  close(fd: number): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync of a directory, so a created, renamed or removed entry in it is durable. */
  syncDir(path: string): Promise<void>;
}

const cb =
  <T>(resolve: (v: T) => void, reject: (e: unknown) => void) =>
  (err: NodeJS.ErrnoException | null, v?: T) =>
    err ? reject(err) : resolve(v as T);

/** `O_DSYNC` where the platform has it (Linux, macOS), else undefined: the log then syncs with `fdatasync`. */
export const O_DSYNC: number | undefined = fs.constants.O_DSYNC;

/** Node's file system as a `WalFs`. */
export const nodeWalFs: WalFs = {
  mkdir: (p) => fs.promises.mkdir(p, { recursive: true }).then(() => undefined),
  readdir: (p) => fs.promises.readdir(p),
  readFile: (p) => fs.promises.readFile(p),
  openAppend: (p, dsync = false) => {
    const { O_WRONLY, O_CREAT, O_APPEND } = fs.constants;
    if (dsync && O_DSYNC === undefined) return Promise.reject(new Error('O_DSYNC is not available here'));
    const flags = O_WRONLY | O_CREAT | O_APPEND | (dsync ? O_DSYNC! : 0);
    return new Promise((res, rej) => fs.open(p, flags, 0o644, cb(res, rej)));
  },
  openReadWrite: (p) => new Promise((res, rej) => fs.open(p, 'r+', cb(res, rej))),
  write: (fd, buf, offset, length) =>
    new Promise((res, rej) => fs.write(fd, buf, offset, length, null, cb(res, rej))),
  fdatasync: (fd) => new Promise((res, rej) => fs.fdatasync(fd, cb(res, rej))),
  ftruncate: (fd, length) => new Promise((res, rej) => fs.ftruncate(fd, length, cb(res, rej))),
  close: (fd) => new Promise((res, rej) => fs.close(fd, cb(res, rej))),
  unlink: (p) => fs.promises.unlink(p),
  rename: (a, b) => fs.promises.rename(a, b),
  syncDir: async (p) => {
    const fd = await new Promise<number>((res, rej) => fs.open(p, 'r', cb(res, rej)));
    try {
      await new Promise<void>((res, rej) => fs.fsync(fd, cb(res, rej)));
    } finally {
      await new Promise<void>((res, rej) => fs.close(fd, cb(res, rej)));
    }
  },
};
