import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type Agent, get, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashKey } from '../../src/http/auth.ts';

/** How a server child process ended: its exit code, or the signal that killed it. */
export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `repayrisk serve` child process, listening. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT`, from its `repayrisk serving on …` line. */
  readonly url: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ServeExit>;
  /** Everything it wrote so far, stdout and stderr interleaved: for failure messages. */
  output(): string;
  /** What it wrote to each stream so far (stdout: the JSON log lines; stderr: the banner for the terminal). */
  streams(): { stdout: string; stderr: string };
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every server started here and not yet exited: killed by `killServes` and, at the latest, when this process exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** SIGKILLs every server still running and waits for each to exit (for `afterEach`, so a failure leaves none). */
export async function killServes(): Promise<void> {
  const waits = [...running].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
}

/** Writes a keys file with one key holding every scope and a rate limit no test reaches; returns the plain key. */
export function writeKeysFile(dir: string, plain = 'rr_test_durability_key'): { path: string; key: string } {
  const path = join(dir, 'keys.yaml');
  writeFileSync(
    path,
    [
      '- id: t',
      `  sha256: ${hashKey(plain)}`,
      '  scopes: [score, contacts, admin]',
      '  rateLimit: { max: 1000000, timeWindowMs: 60000 }',
      '',
    ].join('\n'),
  );
  return { path, key: plain };
}

/**
 * Starts `node bin/repayrisk.js serve --port 0 --ledger <ledger> --keys <keys> --no-watch` from the repository root
 * and resolves once it printed its address and `GET /readyz` answered 200.
 * @throws Error with the process's output when it exits first or is not ready within `timeoutMs`.
 */
export async function startServe(opts: {
  ledger: string;
  /** Keys file; absent: none (serve prints a one-time key). */
  keys?: string;
  /** More arguments (they replace `--no-watch`); `cwd` (default the repository root) and `logLevel` (warn). */
  args?: readonly string[];
  cwd?: string;
  logLevel?: string;
  timeoutMs?: number;
  /** More environment (e.g. DATABASE_URL for a PostgreSQL ledger, which is otherwise removed). */
  env?: Record<string, string>;
}): Promise<ServeProcess> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // The DuckDB file under test, whatever the environment says (DATABASE_URL would switch to PostgreSQL).
  const { DATABASE_URL: _ignored, REPAYRISK_API_KEYS_FILE: _none, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/repayrisk.js'),
      'serve',
      '--port',
      '0',
      '--ledger',
      opts.ledger,
      ...(opts.keys ? ['--keys', opts.keys] : []),
      ...(opts.args ?? ['--no-watch']),
    ],
    {
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, LOG_LEVEL: opts.logLevel ?? 'warn', ...opts.env },
    },
  );
  running.add(child);
  let out = '';
  const text = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => {
    text.stdout += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    text.stderr += d.toString('utf8');
  });
  const exited = new Promise<ServeExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const output = () => out;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`repayrisk serve did not print its address within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const m = /repayrisk serving on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`repayrisk serve exited (${e.code ?? e.signal}) before listening; output:\n${out}`));
    });
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await getOnce(`${url}/readyz`).catch((e: unknown) => e as Error);
    if (!(r instanceof Error) && r.status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      const why = r instanceof Error ? r.message : `${r.status} ${r.text}`;
      throw new Error(`${url}/readyz not ready within ${timeoutMs} ms (${why}); output:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, exited, output, streams: () => ({ ...text }) };
}

/** One GET on a connection of its own (closed after the answer, so it never holds a server's close open). */
function getOnce(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    }).on('error', reject);
  });
}

/**
 * Sends `signal` once and waits for the process to exit (see `waitExit`). Send it once only: `serve` handles the
 * first SIGTERM/SIGINT, a second one gets the default action and kills it.
 */
export function stopServe(p: ServeProcess, signal: NodeJS.Signals, timeoutMs = 20_000): Promise<ServeExit> {
  p.child.kill(signal);
  return waitExit(p, timeoutMs);
}

/** Waits for the process to exit; after `timeoutMs` SIGKILLs it and throws, with its output. */
export async function waitExit(p: ServeProcess, timeoutMs = 20_000): Promise<ServeExit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const r = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (r === 'late') {
    p.child.kill('SIGKILL');
    await p.exited;
    throw new Error(`repayrisk serve did not exit within ${timeoutMs} ms; output:\n${p.output()}`);
  }
  return r;
}

/** An HTTP answer, read whole. */
export interface HttpAnswer {
  status: number;
  /** The response's `Connection` header (keep-alive, close), if any. */
  connection: string | undefined;
  text: string;
}

/**
 * POSTs `body` as JSON to `url` through `agent` (node:http, so the test owns the connections and can drop them).
 * Rejects with the socket error (its `code`: ECONNREFUSED, ECONNRESET, …) when no whole answer arrives.
 */
export function postJson(
  url: string,
  body: unknown,
  opts: { key: string; agent: Agent },
): Promise<HttpAnswer> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: opts.agent,
      headers: {
        authorization: `Bearer ${opts.key}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(data),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      const cut = () => reject(Object.assign(new Error('answer cut short'), { code: 'ECONNRESET' }));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) return cut();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text });
      });
      res.on('close', () => {
        if (!res.complete) cut();
      });
    });
    req.end(data);
  });
}

/**
 * Resolves once a new TCP connection to `url` is refused, i.e. the server stopped listening (its close began).
 * @throws Error when it still accepts connections after `timeoutMs`.
 */
export async function waitListenerClosed(url: string, timeoutMs = 10_000): Promise<void> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: hostname, port: Number(port) });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`${url} still accepts connections after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
