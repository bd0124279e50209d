// The write-ahead log's own promises (src/ledger/wal/log.ts): what is acknowledged was synced first (an O_DSYNC
// write, or a write then an fdatasync), concurrent appends share syncs, and a damaged tail is cut and reported at
// open, never half-read.
import {
  constants,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LedgerError } from '../src/ledger/open.ts';
import { HEADER_BYTES } from '../src/ledger/wal/frame.ts';
import { nodeWalFs, type WalFs } from '../src/ledger/wal/fs.ts';
import { WalLog as Log, type ScannedRecord, type WalSyncMode } from '../src/ledger/wal/log.ts';
import { tmpDir } from './helpers/tmp.ts';

const root = tmpDir('repayrisk-wal-log-');
let seq = 0;
const freshDir = () => join(root, `log-${++seq}`);
const text = (r: ScannedRecord) => r.payload.toString('utf8');
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();

async function openLog(dir: string, fs?: WalFs, sync?: WalSyncMode) {
  const records: ScannedRecord[] = [];
  const { log, cut } = await Log.open(dir, (r) => records.push(r), {
    ...(fs ? { fs } : {}),
    ...(sync ? { sync } : {}),
  });
  return { log, cut, records };
}

/**
 * Whether the kernel holds descriptor `fd` of this process open with O_DSYNC (its flags in /proc/self/fdinfo, in
 * octal): the write's durability is the kernel's, not this test's wrapper's say-so. Null off Linux.
 */
function kernelSaysDsync(fd: number): boolean | null {
  if (process.platform !== 'linux') return null;
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return (Number.parseInt(flags!, 8) & constants.O_DSYNC!) !== 0;
}

/** Writes `payloads` in one session (one segment) and closes; returns the segment file. */
async function session(dir: string, payloads: string[]): Promise<string> {
  const { log } = await openLog(dir);
  for (const p of payloads) await log.append(Buffer.from(p));
  const file = join(dir, segments(dir).at(-1)!);
  await log.close();
  return file;
}

/**
 * Node's fs with every write, sync start and sync end recorded in `events`, and syncs that wait for `release()`
 * while `hold` is on: the in-process stand-in for `strace -e trace=write,fdatasync`.
 */
function tracingFs(holdWrites = false) {
  const events: string[] = [];
  let hold = false;
  let gate: (() => void)[] = [];
  /** Segment files opened for appending: descriptor and whether O_DSYNC was asked for. */
  const opened: { fd: number; dsync: boolean }[] = [];
  const fs: WalFs = {
    ...nodeWalFs,
    openAppend: async (path, dsync) => {
      const fd = await nodeWalFs.openAppend(path, dsync);
      if (path.endsWith('.wal')) opened.push({ fd, dsync: dsync === true });
      return fd;
    },
    write: async (fd, buf, offset, length) => {
      if (holdWrites) {
        events.push(`write start ${length}`);
        if (hold) await new Promise<void>((r) => gate.push(r));
        const n = await nodeWalFs.write(fd, buf, offset, length);
        events.push(`write end ${n}`);
        return n;
      }
      const n = await nodeWalFs.write(fd, buf, offset, length);
      events.push(`write ${n}`);
      return n;
    },
    fdatasync: async (fd) => {
      events.push('fdatasync start');
      if (hold) await new Promise<void>((r) => gate.push(r));
      await nodeWalFs.fdatasync(fd);
      events.push('fdatasync end');
    },
  };
  return {
    fs,
    events,
    opened,
    hold(on: boolean) {
      hold = on;
    },
    release() {
      for (const g of gate.splice(0)) g();
      gate = [];
    },
    /** Resolves once a sync (or, holding writes, a write) is waiting at the gate. */
    async waitForHeldSync() {
      while (gate.length === 0) await new Promise((r) => setTimeout(r, 1));
    },
  };
}

describe('write-ahead log: records', () => {
  it('reads back every record in append order across sessions, each session in a new segment', async () => {
    const dir = freshDir();
    await session(dir, ['{"a":1}', '{"b":"café ✓"}']);
    await session(dir, ['{"c":3}']);
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(cut).toBeNull();
    expect(records.map(text)).toEqual(['{"a":1}', '{"b":"café ✓"}', '{"c":3}']);
    expect(records.map((r) => r.position.segment)).toEqual([1, 1, 2]);
    expect(segments(dir)).toEqual(['0000000000000001.wal', '0000000000000002.wal', '0000000000000003.wal']);
  });

  it('keeps its identity across opens, so a store can tell this log from another', async () => {
    const dir = freshDir();
    const a = await openLog(dir);
    await a.log.close();
    const b = await openLog(dir);
    await b.log.close();
    const other = await openLog(freshDir());
    await other.log.close();
    expect(a.log.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.log.id).toBe(a.log.id);
    expect(other.log.id).not.toBe(a.log.id);
  });

  it('refuses a directory another live process holds, and takes over one whose owner is gone', async () => {
    const dir = freshDir();
    await session(dir, ['1']);
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`); // a live process that is not this one
    const err = await openLog(dir).then(
      () => null,
      (e: unknown) => e as LedgerError,
    );
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toBe(
      `the write-ahead log in ${dir} is in use by process ${process.ppid} (its LOCK file); one process owns a log`,
    );
    writeFileSync(join(dir, 'LOCK'), '2147483646\n'); // no such process: a crashed owner
    const { log, records } = await openLog(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    await log.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    expect(records.map(text)).toEqual(['1']);
  });

  it('retires the segments below a number, never the active one', async () => {
    const dir = freshDir();
    await session(dir, ['1']);
    await session(dir, ['2']);
    const { log } = await openLog(dir);
    expect(await log.retireBelow(99)).toBe(2);
    expect(segments(dir)).toEqual([`${String(log.activeSegment).padStart(16, '0')}.wal`]);
    await log.close();
  });
});

describe('write-ahead log: a damaged tail is cut at open and reported', () => {
  it('cuts a torn tail (the file truncated mid-record) and keeps every whole record before it', async () => {
    const dir = freshDir();
    const file = await session(dir, ['{"n":1}', '{"n":2}', '{"n":3,"pad":"xxxxxxxxxx"}']);
    const whole = statSync(file).size;
    const third = HEADER_BYTES + '{"n":3,"pad":"xxxxxxxxxx"}'.length;
    truncateSync(file, whole - 5); // a crash cut the last write short
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(records.map(text)).toEqual(['{"n":1}', '{"n":2}']);
    expect(cut).toMatchObject({ file, offset: whole - third, bytes: third - 5, reason: 'torn' });
    expect(statSync(file).size).toBe(whole - third);
    // Cut once: the next open finds nothing to cut and the same records.
    const again = await openLog(dir);
    await again.log.close();
    expect(again.cut).toBeNull();
    expect(again.records.map(text)).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('cuts a tail whose header alone was torn', async () => {
    const dir = freshDir();
    const file = await session(dir, ['{"n":1}', '{"n":2}']);
    const first = HEADER_BYTES + 7;
    truncateSync(file, first + 3);
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(records.map(text)).toEqual(['{"n":1}']);
    expect(cut).toMatchObject({ offset: first, bytes: 3, reason: 'torn' });
  });

  it('cuts a corrupt tail (one payload byte flipped) and hands none of it on', async () => {
    const dir = freshDir();
    const file = await session(dir, ['{"n":1}', '{"n":2}', '{"n":3}']);
    const bytes = readFileSync(file);
    const rec = HEADER_BYTES + 7;
    bytes[2 * rec + HEADER_BYTES + 4]! ^= 0x01; // "3" becomes "2": still JSON, only the checksum knows
    writeFileSync(file, bytes);
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(records.map(text)).toEqual(['{"n":1}', '{"n":2}']);
    expect(cut).toMatchObject({ file, offset: 2 * rec, bytes: rec, reason: 'checksum' });
    expect(cut?.detail).toMatch(/^CRC-32 [0-9a-f]{8} stored, [0-9a-f]{8} computed$/);
    expect(statSync(file).size).toBe(2 * rec);
  });

  it('cuts at a corrupt length field too, even when valid records follow it (they were never acknowledged)', async () => {
    const dir = freshDir();
    const file = await session(dir, ['{"n":1}', '{"n":2}', '{"n":3}']);
    const bytes = readFileSync(file);
    const rec = HEADER_BYTES + 7;
    bytes[rec]! ^= 0x02; // the second record's length: 7 becomes 5
    writeFileSync(file, bytes);
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(records.map(text)).toEqual(['{"n":1}']);
    expect(cut).toMatchObject({ offset: rec, bytes: 2 * rec, reason: 'checksum' });
  });

  it('cuts a tail of zeros (a file extended but its data never written)', async () => {
    const dir = freshDir();
    const file = await session(dir, ['{"n":1}']);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(4096)]));
    const { log, records, cut } = await openLog(dir);
    await log.close();
    expect(records.map(text)).toEqual(['{"n":1}']);
    expect(cut).toMatchObject({ offset: HEADER_BYTES + 7, bytes: 4096, reason: 'checksum' });
  });

  it('refuses to open when a segment before the last is damaged: corruption, not a torn tail', async () => {
    const dir = freshDir();
    const first = await session(dir, ['{"n":1}', '{"n":2}']);
    await session(dir, ['{"n":3}']);
    const bytes = readFileSync(first);
    bytes[HEADER_BYTES + 3]! ^= 0x40;
    writeFileSync(first, bytes);
    const err = await openLog(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as LedgerError).code).toBe('unavailable');
    expect((err as LedgerError).message).toContain(`segment ${first} is damaged at byte 0 (checksum`);
    expect(statSync(first).size).toBe(bytes.length); // nothing cut
  });
});

describe('write-ahead log: group commit', () => {
  it('fdatasync mode: resolves an append only after the fdatasync that covers it has returned', async () => {
    const dir = freshDir();
    const t = tracingFs();
    const { log } = await openLog(dir, t.fs, 'fdatasync');
    expect(log.syncMode).toBe('fdatasync');
    expect(t.opened.map((o) => o.dsync)).toEqual([false]);
    const kernel = kernelSaysDsync(t.opened[0]!.fd);
    if (kernel !== null) expect(kernel).toBe(false);
    t.events.length = 0;
    t.hold(true);
    let acked = false;
    const p = log.append(Buffer.from('{"n":1}')).then((pos) => {
      t.events.push('ack');
      acked = true;
      return pos;
    });
    await t.waitForHeldSync();
    await new Promise((r) => setTimeout(r, 20));
    expect(acked).toBe(false); // written, but its sync has not returned
    expect(t.events).toEqual([`write ${HEADER_BYTES + 7}`, 'fdatasync start']);
    t.release();
    const pos = await p;
    expect(t.events).toEqual([`write ${HEADER_BYTES + 7}`, 'fdatasync start', 'fdatasync end', 'ack']);
    expect(pos).toEqual({ segment: log.activeSegment, end: HEADER_BYTES + 7 });
    await log.close();
  });

  it('fdatasync mode: sends the appends that arrive during a sync out together: one write and one fdatasync for all of them', async () => {
    const dir = freshDir();
    const t = tracingFs();
    const { log } = await openLog(dir, t.fs, 'fdatasync');
    t.events.length = 0;
    t.hold(true);
    const acks: string[] = [];
    const first = log.append(Buffer.from('first')).then(() => acks.push('first'));
    await t.waitForHeldSync();
    const rest = Array.from({ length: 200 }, (_, i) =>
      log.append(Buffer.from(`{"i":${i}}`)).then(() => acks.push(`r${i}`)),
    );
    t.hold(false);
    t.release();
    await Promise.all([first, ...rest]);
    const restBytes = Array.from({ length: 200 }, (_, i) => HEADER_BYTES + `{"i":${i}}`.length).reduce(
      (a, b) => a + b,
    );
    expect(t.events).toEqual([
      `write ${HEADER_BYTES + 5}`,
      'fdatasync start',
      'fdatasync end',
      `write ${restBytes}`,
      'fdatasync start',
      'fdatasync end',
    ]);
    expect(acks).toEqual(['first', ...Array.from({ length: 200 }, (_, i) => `r${i}`)]);
    expect(log.stats()).toMatchObject({ appends: 201, writes: 2, syncs: 2 });
    await log.close();
    const back = await openLog(dir);
    await back.log.close();
    expect(back.records.map(text)).toEqual(['first', ...Array.from({ length: 200 }, (_, i) => `{"i":${i}}`)]);
  });

  it('dsync mode (the default here): resolves an append only after the O_DSYNC write that covers it returned, with no fdatasync', async () => {
    const dir = freshDir();
    const t = tracingFs(true);
    const { log } = await openLog(dir, t.fs);
    expect(log.syncMode).toBe('dsync');
    expect(t.opened.map((o) => o.dsync)).toEqual([true]);
    const kernel = kernelSaysDsync(t.opened[0]!.fd);
    if (kernel !== null) expect(kernel).toBe(true);
    t.events.length = 0;
    t.hold(true);
    let acked = false;
    const p = log.append(Buffer.from('{"n":1}')).then((pos) => {
      t.events.push('ack');
      acked = true;
      return pos;
    });
    await t.waitForHeldSync();
    await new Promise((r) => setTimeout(r, 20));
    expect(acked).toBe(false); // its write has not returned
    expect(t.events).toEqual([`write start ${HEADER_BYTES + 7}`]);
    t.release();
    const pos = await p;
    expect(t.events).toEqual([`write start ${HEADER_BYTES + 7}`, `write end ${HEADER_BYTES + 7}`, 'ack']);
    expect(pos).toEqual({ segment: log.activeSegment, end: HEADER_BYTES + 7 });
    expect(log.stats()).toMatchObject({ appends: 1, writes: 1, syncs: 1 });
    await log.close();
  });

  it('dsync mode: the appends that arrive during a write go out together in the next single O_DSYNC write', async () => {
    const dir = freshDir();
    const t = tracingFs(true);
    const { log } = await openLog(dir, t.fs, 'dsync');
    t.events.length = 0;
    t.hold(true);
    const acks: string[] = [];
    const first = log.append(Buffer.from('first')).then(() => acks.push('first'));
    await t.waitForHeldSync();
    const rest = Array.from({ length: 200 }, (_, i) =>
      log.append(Buffer.from(`{"i":${i}}`)).then(() => acks.push(`r${i}`)),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(acks).toEqual([]);
    t.hold(false);
    t.release();
    await Promise.all([first, ...rest]);
    const restBytes = Array.from({ length: 200 }, (_, i) => HEADER_BYTES + `{"i":${i}}`.length).reduce(
      (a, b) => a + b,
    );
    expect(t.events).toEqual([
      `write start ${HEADER_BYTES + 5}`,
      `write end ${HEADER_BYTES + 5}`,
      `write start ${restBytes}`,
      `write end ${restBytes}`,
    ]);
    expect(acks).toEqual(['first', ...Array.from({ length: 200 }, (_, i) => `r${i}`)]);
    expect(log.stats()).toMatchObject({ appends: 201, writes: 2, syncs: 2 });
    await log.close();
    const back = await openLog(dir);
    await back.log.close();
    expect(back.records.map(text)).toEqual(['first', ...Array.from({ length: 200 }, (_, i) => `{"i":${i}}`)]);
  });

  it('dsync mode: a segment started by a roll-over is opened with O_DSYNC too', async () => {
    const t = tracingFs();
    const small = await Log.open(freshDir(), () => undefined, { fs: t.fs, segmentBytes: 16 });
    for (let i = 0; i < 3; i++) await small.log.append(Buffer.from(`{"i":${i},"pad":"xxxxxxxx"}`));
    expect(t.opened.length).toBeGreaterThanOrEqual(3);
    expect(t.opened.every((o) => o.dsync)).toBe(true);
    const kernel = kernelSaysDsync(t.opened.at(-1)!.fd);
    if (kernel !== null) expect(kernel).toBe(true);
    await small.log.close();
  });

  it('syncs far fewer times than it appends under 64 concurrent closed-loop writers, on the real file system', async () => {
    const { log } = await openLog(freshDir());
    const writer = async (w: number) => {
      for (let i = 0; i < 20; i++) await log.append(Buffer.from(`{"w":${w},"i":${i}}`));
    };
    await Promise.all(Array.from({ length: 64 }, (_, w) => writer(w)));
    const s = log.stats();
    await log.close();
    expect(s.appends).toBe(1280);
    // Every sync after the first carries the appends that queued behind it: with 64 writers, tens per sync.
    expect(s.syncs).toBeLessThan(1280 / 8);
  });

  it('fdatasync mode: fails every append after a failed fdatasync, and a reopen keeps what was synced', async () => {
    const dir = freshDir();
    let fail = false;
    const fs: WalFs = {
      ...nodeWalFs,
      fdatasync: async (fd) => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        await nodeWalFs.fdatasync(fd);
      },
    };
    const { log } = await openLog(dir, fs, 'fdatasync');
    await log.append(Buffer.from('kept'));
    fail = true;
    const bad = await log.append(Buffer.from('lost')).then(
      () => null,
      (e: unknown) => e as LedgerError,
    );
    expect(bad?.code).toBe('unavailable');
    expect(bad?.message).toMatch(
      /failed a write or sync \(EIO\); nothing more is accepted until it is reopened/,
    );
    fail = false;
    await expect(log.append(Buffer.from('after'))).rejects.toThrow(/failed a write or sync/);
    await log.close();
    const back = await openLog(dir);
    await back.log.close();
    // 'lost' was written but never acknowledged; whatever the disk kept of it is a whole record or nothing.
    expect(back.records.map(text)[0]).toBe('kept');
    expect(back.records.map(text)).not.toContain('after');
  });

  it('dsync mode: fails every append after a failed write, and a reopen keeps what was written before', async () => {
    const dir = freshDir();
    let fail = false;
    const fs: WalFs = {
      ...nodeWalFs,
      write: async (fd, buf, offset, length) => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        return nodeWalFs.write(fd, buf, offset, length);
      },
    };
    const { log } = await openLog(dir, fs, 'dsync');
    await log.append(Buffer.from('kept'));
    fail = true;
    await expect(log.append(Buffer.from('lost'))).rejects.toThrow(/failed a write or sync \(EIO\)/);
    fail = false;
    await expect(log.append(Buffer.from('after'))).rejects.toThrow(/failed a write or sync/);
    await log.close();
    const back = await openLog(dir);
    await back.log.close();
    expect(back.records.map(text)).toEqual(['kept']);
  });

  it('rolls over to a new segment once the active one is full', async () => {
    const dir = freshDir();
    const records: ScannedRecord[] = [];
    const { log } = await Log.open(dir, (r) => records.push(r), { segmentBytes: 64 });
    for (let i = 0; i < 10; i++) await log.append(Buffer.from(`{"i":${i},"pad":"xxxxxxxxxxxx"}`));
    await log.close();
    expect(segments(dir).length).toBeGreaterThan(3);
    const back = await openLog(dir);
    await back.log.close();
    expect(back.records.map((r) => JSON.parse(text(r)).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(existsSync(join(dir, 'wal-id'))).toBe(true);
  });
});
