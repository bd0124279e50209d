import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A PostgreSQL database for one test file. */
export interface TestPostgres {
  /** Connection URL of the file's own database (or of DATABASE_URL's database). */
  readonly url: string;
  /** Creates an empty schema and returns a URL whose `search_path` is that schema, so each test starts clean. */
  freshSchema(): Promise<string>;
  /** Drops what it created; stops and removes the throwaway server if it started one. */
  stop(): Promise<void>;
}

/** Whether the PostgreSQL half of a suite can run here, and how — or why not, for the skip's title. */
export type PostgresAvailability =
  | { available: true; how: string; start(): Promise<TestPostgres> }
  | { available: false; reason: string };

/**
 * Finds a PostgreSQL for tests, synchronously so a suite can name the reason in a `describe.skip` title:
 * DATABASE_URL when set (each test gets a fresh schema there, dropped afterwards); otherwise `initdb` and
 * `pg_ctl` on PATH or under /usr/lib/postgresql/<version>/bin, used to start a throwaway cluster in a temporary
 * directory on a free port with trust authentication. As root (where initdb refuses to run) the cluster is
 * initialised and run as the `postgres` user through `runuser`.
 */
export function findPostgres(env: NodeJS.ProcessEnv = process.env): PostgresAvailability {
  const url = env.DATABASE_URL;
  if (url) return { available: true, how: 'DATABASE_URL', start: () => useExisting(url) };
  const bin = findBinDir(env.PATH ?? '');
  if (!bin)
    return { available: false, reason: 'no DATABASE_URL and no PostgreSQL binaries (initdb, pg_ctl)' };
  let runAs: RunAs | null = null;
  if (process.getuid?.() === 0) {
    runAs = rootRunner();
    if (!runAs)
      return {
        available: false,
        reason: 'no DATABASE_URL; running as root and no postgres user with runuser/su to run initdb as',
      };
  }
  return { available: true, how: `throwaway cluster from ${bin}`, start: () => startCluster(bin, runAs) };
}

/** How a command runs as the `postgres` user when the tests run as root. */
interface RunAs {
  uid: number;
  gid: number;
  wrap(cmd: string, args: string[]): [string, string[]];
}

function rootRunner(): RunAs | null {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
  const runuser =
    which('runuser', process.env.PATH ?? '') ??
    (existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : null);
  if (runuser) return { uid, gid, wrap: (cmd, args) => [runuser, ['-u', 'postgres', '--', cmd, ...args]] };
  const su = which('su', process.env.PATH ?? '');
  if (su) {
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    return {
      uid,
      gid,
      wrap: (cmd, args) => [su, ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(quote).join(' ')]],
    };
  }
  return null;
}

function which(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** The directory holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/<version>/bin. */
function findBinDir(path: string): string | null {
  const initdb = which('initdb', path);
  if (initdb && which('pg_ctl', path)) return join(initdb, '..');
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `url` with `-c search_path=<schema>` added to its startup `options`. */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  const prev = u.searchParams.get('options');
  u.searchParams.set('options', `${prev ? `${prev} ` : ''}-c search_path=${schema}`);
  return u.toString();
}

let schemaSeq = 0;

async function schemaMaker(url: string) {
  const created: string[] = [];
  return {
    async freshSchema(): Promise<string> {
      const name = `ledger_test_${process.pid}_${Date.now().toString(36)}_${++schemaSeq}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA ${name}`);
      } finally {
        await c.end();
      }
      created.push(name);
      return withSearchPath(url, name);
    },
    async dropAll(): Promise<void> {
      if (created.length === 0) return;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        for (const name of created.splice(0)) await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

async function useExisting(url: string): Promise<TestPostgres> {
  const schemas = await schemaMaker(url);
  return { url, freshSchema: schemas.freshSchema, stop: schemas.dropAll };
}

async function startCluster(bin: string, runAs: RunAs | null): Promise<TestPostgres> {
  const base = mkdtempSync(join(tmpdir(), 'repayrisk-pg-'));
  if (runAs) chownSync(base, runAs.uid, runAs.gid);
  const data = join(base, 'data');
  const log = join(base, 'server.log');
  const exec = (cmd: string, args: string[]) => {
    const [c, a] = runAs ? runAs.wrap(cmd, args) : [cmd, args];
    return run(c, a, { encoding: 'utf8' });
  };
  const pgCtl = join(bin, 'pg_ctl');
  let started = false;
  const stopSync = () => {
    if (started) {
      const [c, a] = runAs
        ? runAs.wrap(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'])
        : [pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']];
      try {
        execFileSync(c, a, { stdio: 'ignore' });
      } catch {
        // already stopped
      }
      started = false;
    }
    rmSync(base, { recursive: true, force: true });
  };
  // If the test process exits without running afterAll (a crash), do not leave a server behind.
  process.once('exit', stopSync);
  try {
    // --no-sync only skips syncing the freshly initialised files; the server itself runs with fsync on.
    await exec(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    const port = await freePort();
    const opts = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1`;
    await exec(pgCtl, ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
    started = true;
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const dbName = `repayrisk_test_${process.pid}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await c.end();
    }
    const url = `postgres://postgres@127.0.0.1:${port}/${dbName}`;
    const schemas = await schemaMaker(url);
    return {
      url,
      freshSchema: schemas.freshSchema,
      stop: async () => {
        process.removeListener('exit', stopSync);
        if (started) await exec(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
        started = false;
        stopSync();
      },
    };
  } catch (e) {
    const tail = existsSync(log)
      ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')
      : '(no server log)';
    process.removeListener('exit', stopSync);
    stopSync();
    throw new Error(`could not start a throwaway PostgreSQL from ${bin}: ${(e as Error).message}\n${tail}`, {
      cause: e,
    });
  }
}
