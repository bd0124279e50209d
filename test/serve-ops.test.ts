import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeInput } from '../src/cli/commands/serve.ts';
import { createApp } from '../src/http/app.ts';
import { ApiKeysError, hashKey, parseApiKeys } from '../src/http/auth.ts';
import { closeWithDeadline } from '../src/http/drain.ts';
import type { LiveState } from '../src/service/live-types.ts';
import { cliInProcess } from './helpers/cli.ts';
import { killServes, startServe, waitExit } from './helpers/serve-process.ts';
import {
  bearer,
  committedState,
  counterIds,
  FakeLive,
  logSink,
  MemoryLedger,
  PLAIN,
  T0,
  testKeys,
} from './helpers/service.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Issue 14, item 7 (operations): one regression test per defect a user met running the service. In-process where
 * the defect is the app's; real `repayrisk serve` processes where it is the process's (ports, signals, streams).
 */

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO_ROOT, 'bin/repayrisk.js');
const CHAMPION = readFileSync(join(REPO_ROOT, 'models/repayrisk/CHAMPION'), 'utf8').trim();

let state: LiveState;
beforeAll(async () => {
  state = await committedState();
});
afterEach(killServes);

async function build(logger?: { level: string; stream: NodeJS.WritableStream }) {
  return createApp({
    live: new FakeLive(state),
    ledger: new MemoryLedger(),
    keys: testKeys(),
    now: () => Date.parse(T0),
    newId: counterIds('d'),
    ...(logger ? { logger: logger as never } : {}),
  });
}

/** Sends raw bytes on a fresh connection and resolves with everything the server wrote before closing it. */
function rawExchange(app: FastifyInstance, bytes: string): Promise<string> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(got) : reject(e)));
    s.on('close', () => resolve(got));
    s.write(bytes);
  });
}

/** Status, headers (lower-cased) and JSON body of a raw HTTP/1.1 answer. */
function parseRaw(raw: string): {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
} {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) };
}

const serviceShape = {
  error: expect.any(String),
  message: expect.any(String),
  request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
};

describe('errors in the service shape', () => {
  it('GET /v1/score is a 405 with `Allow: POST` (not a 404); an unknown path is still a 404; both carry a request id', async () => {
    const app = await build();
    const r = await app.inject({ method: 'GET', url: '/v1/score', headers: bearer(PLAIN.score) });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect(r.json()).toEqual({ ...serviceShape, error: 'method_not_allowed' });
    expect(r.json().request_id).toBe(r.headers['x-request-id']);
    expect(r.json().message).toContain('POST');

    const d = await app.inject({ method: 'DELETE', url: '/v1/decisions/abc', headers: bearer(PLAIN.score) });
    expect([d.statusCode, d.headers.allow]).toEqual([405, 'GET, HEAD']);
    const n = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(n.statusCode).toBe(404);
    expect(n.json()).toEqual({ ...serviceShape, error: 'not_found' });
  });

  it('headers over the size limit are a 431 in the service shape with a request id (fastify answered in its own)', async () => {
    const app = await build();
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const raw = await rawExchange(
        app,
        `GET /v1/models HTTP/1.1\r\nHost: x\r\nx-filler: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      const r = parseRaw(raw);
      expect(r.status).toBe(431);
      expect(r.body).toEqual({ ...serviceShape, error: 'headers_too_large' });
      expect(r.headers['x-request-id']).toBe(r.body.request_id);
      expect(r.headers['content-type']).toMatch(/^application\/json/);

      const bad = parseRaw(await rawExchange(app, 'GET /v1/models HTTP/1.1\r\nHo st: x\r\n\r\n'));
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ ...serviceShape, error: 'bad_http' });

      // A URL fastify cannot decode: its own frameworkErrors path, now in the service shape too.
      const url = parseRaw(
        await rawExchange(app, 'GET /v1/decisions/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      expect(url.status).toBe(400);
      expect(url.body).toEqual({ ...serviceShape, error: 'bad_request' });
    } finally {
      await app.close();
    }
  });
});

describe('request ids', () => {
  it('a caller x-request-id that is too long or holds other characters is replaced, and the log says so without the value', async () => {
    const sink = logSink();
    const app = await build({ level: 'info', stream: sink.stream });
    const sent = [`evil\u00e9-${'x'.repeat(10)}`, 'y'.repeat(129), 'a b', 'ok-id:1.2_3'];
    const ids: string[] = [];
    for (const id of sent) {
      const r = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
      ids.push(String(r.headers['x-request-id']));
    }
    expect(ids[3]).toBe('ok-id:1.2_3');
    for (const id of ids.slice(0, 3))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const lines = sink
      .lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'caller x-request-id replaced by a generated one');
    expect(lines.map((l) => [l.request_id, l.request_id_replaced, l.sent_length])).toEqual([
      [ids[0], 'has characters outside A-Z a-z 0-9 . _ : -', 16],
      [ids[1], 'longer than 128 characters', 129],
      [ids[2], 'has characters outside A-Z a-z 0-9 . _ : -', 3],
    ]);
    expect(sink.text()).not.toContain('y'.repeat(129));
    expect(sink.text()).not.toContain('evil');
  });
});

describe('API keys', () => {
  it('a keys file with an unknown scope names the unknown scope (it said "required field is missing")', () => {
    const text = `keys:\n  - id: dialer\n    sha256: ${hashKey('k')}\n    scopes: [score, reed]\n`;
    let err: unknown;
    try {
      parseApiKeys(text, 'keys.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiKeysError);
    expect((err as ApiKeysError).issues).toEqual([
      {
        path: 'keys.0.scopes.1',
        message: 'unknown scope (expected one of score, contacts, admin, audit)',
        got: '"reed"',
      },
    ]);
    expect((err as Error).message).not.toContain('missing');
  });

  it('`keys create` prints a new key once on stderr, appends only its hash, and the service accepts that key', async () => {
    const dir = tmpDir('repayrisk-keys-');
    const file = join(dir, 'keys.yaml');
    writeFileSync(
      file,
      `# ops keys\nkeys:\n  - id: old\n    sha256: ${hashKey('old-key')}\n    scopes: [admin]\n`,
    );
    const r = await cliInProcess(
      'keys',
      'create',
      '--id',
      'dialer',
      '--scopes',
      'score,contacts',
      '--file',
      file,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    const plain = /\n {2}(rr_[A-Za-z0-9_-]{43})\n/.exec(r.err)?.[1];
    expect(plain, r.err).toBeDefined();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# ops keys');
    expect(text).not.toContain(plain!);
    const keys = parseApiKeys(text, file);
    expect(keys.map((k) => [k.id, k.sha256, k.scopes])).toEqual([
      ['old', hashKey('old-key'), ['admin']],
      ['dialer', hashKey(plain!), ['score', 'contacts']],
    ]);

    const app = await createApp({ live: new FakeLive(state), ledger: new MemoryLedger(), keys });
    expect((await app.inject({ method: 'GET', url: '/v1/models', headers: bearer(plain!) })).statusCode).toBe(
      200,
    );

    const again = await cliInProcess('keys', 'create', '--id', 'dialer', '--scopes', 'score', '--file', file);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already has a key with this id');
    const unknown = await cliInProcess(
      'keys',
      'create',
      '--id',
      'x',
      '--scopes',
      'score,reed',
      '--file',
      file,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('keys.2.scopes.1: unknown scope');
    expect(parseApiKeys(readFileSync(file, 'utf8'), file)).toHaveLength(2);
  });
});

describe('--models and --policy', () => {
  it('resolve the same way: a given path against the working directory, the default there and then in the package', () => {
    const cwd = tmpDir('repayrisk-cwd-');
    const pkg = tmpDir('repayrisk-pkg-');
    mkdirSync(join(pkg, 'models'));
    mkdirSync(join(pkg, 'policies'));
    writeFileSync(join(pkg, 'policies/default.yaml'), '');
    // Nothing in the working directory: the package's defaults, for both.
    expect(resolveServeInput('models', undefined, cwd, pkg)).toBe(join(pkg, 'models'));
    expect(resolveServeInput('policy', undefined, cwd, pkg)).toBe(join(pkg, 'policies/default.yaml'));
    // The working directory's own wins, for both.
    mkdirSync(join(cwd, 'models'));
    mkdirSync(join(cwd, 'policies'));
    writeFileSync(join(cwd, 'policies/default.yaml'), '');
    expect(resolveServeInput('models', undefined, cwd, pkg)).toBe(join(cwd, 'models'));
    expect(resolveServeInput('policy', undefined, cwd, pkg)).toBe(join(cwd, 'policies/default.yaml'));
    // Given paths are relative to the working directory, and a miss names the resolved path and the directory.
    expect(resolveServeInput('models', 'models', cwd, pkg)).toBe(join(cwd, 'models'));
    expect(() => resolveServeInput('models', 'mine', cwd, pkg)).toThrow(
      `--models mine: no models root (a folder holding repayrisk/CHAMPION) at ${join(cwd, 'mine')} (resolved against the working directory ${cwd})`,
    );
    expect(() => resolveServeInput('policy', 'p.yaml', cwd, pkg)).toThrow(
      `--policy p.yaml: no policy file at ${join(cwd, 'p.yaml')} (resolved against the working directory ${cwd})`,
    );
    const empty = tmpDir('repayrisk-empty-');
    expect(() => resolveServeInput('policy', undefined, empty, empty)).toThrow(
      `no policy file: looked in the working directory (${join(empty, 'policies/default.yaml')}) and in the package (${join(empty, 'policies/default.yaml')}); pass --policy`,
    );
  });
});

describe('the drain deadline, in process', () => {
  it('counts a request in flight only until its answer; at the deadline drops a stalled one and says what it was', async () => {
    const app = await build();
    for (const url of ['/healthz', '/v1/models', '/nowhere']) await app.inject({ method: 'GET', url });
    await app.inject({ method: 'POST', url: '/v1/score', headers: bearer(PLAIN.score), payload: '{' });
    expect(app.inFlightRequests(), 'answered requests still counted in flight').toEqual([]);

    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const stalled = connect({ port, host: '127.0.0.1' });
    stalled.on('error', () => undefined);
    const gone = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    await new Promise<void>((resolve) => {
      stalled.setEncoding('utf8');
      stalled.on('data', (d: string) => d.includes('100 Continue') && resolve());
      stalled.write(
        `POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PLAIN.contacts}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n{"contacts": [',
      );
    });
    let told: unknown;
    const report = await closeWithDeadline(app, 300, (dropped, connections) => {
      told = { dropped, connections };
    });
    await gone;
    expect(report.drained).toBe(false);
    expect(report.dropped).toEqual([
      {
        request_id: expect.any(String),
        method: 'POST',
        route: '/v1/contacts',
        phase: 'receiving',
        content_length: 500,
        age_ms: expect.any(Number),
      },
    ]);
    expect(told).toEqual({ dropped: report.dropped, connections: 1 });
  });
});

describe('repayrisk serve processes', () => {
  it('a busy port: exits 1 at once naming the port, with the file watch on (it printed EADDRINUSE and hung)', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const dir = tmpDir('repayrisk-busy-');
    try {
      const { DATABASE_URL: _d, REPAYRISK_API_KEYS_FILE: _k, ...env } = process.env;
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--port', String(port), '--ledger', join(dir, 'l.duckdb')],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d;
      });
      // A liveness bound (start-up on a loaded machine takes seconds), not a speed test: before the fix it never ended.
      const exit = await new Promise<number | 'hung'>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve('hung');
        }, 60_000);
        child.once('exit', (code) => {
          clearTimeout(t);
          resolve(code ?? -1);
        });
      });
      expect(exit, out).toBe(1);
      expect(out).toContain(`repayrisk: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      holder.close();
    }
  }, 70_000);

  it('from another folder with the defaults: serves the packaged champion, the one-time key only on stderr; after SIGTERM a stalled client is dropped at the drain deadline and the process exits, logging what it dropped', async () => {
    const cwd = tmpDir('repayrisk-elsewhere-');
    const server = await startServe({
      ledger: join(cwd, 'ledger.duckdb'),
      cwd,
      args: ['--drain-timeout', '1'],
      logLevel: 'info',
      timeoutMs: 60_000,
    });
    const { stdout, stderr } = server.streams();
    const key = /\n {4}(rr_[A-Za-z0-9_-]{24})\n/.exec(stderr)?.[1];
    expect(key, stderr).toBeDefined();
    expect(stdout, 'the key on the log stream').not.toContain(key!);
    expect(
      stdout.split('\n').filter((l) => l && !l.startsWith('{')),
      'non-JSON lines on stdout',
    ).toEqual([]);
    const models = await fetch(`${server.url}/v1/models`, { headers: bearer(key!) });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { champion: { version: string } }).champion.version).toBe(CHAMPION);

    // A client that sent its headers and part of a body, then stalled; and one that connected and sent nothing.
    const { hostname, port } = new URL(server.url);
    const stalled: Socket = connect({ host: hostname, port: Number(port) });
    const idle: Socket = connect({ host: hostname, port: Number(port) });
    const closed = (s: Socket) => new Promise<void>((resolve) => s.once('close', () => resolve()));
    const stalledClosed = closed(stalled);
    const idleClosed = closed(idle);
    stalled.on('error', () => undefined);
    idle.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      stalled.setEncoding('utf8');
      stalled.on('data', (d: string) => {
        if (d.includes('100 Continue')) resolve();
      });
      stalled.write(
        `POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n',
      );
    });
    stalled.write('{"contacts": [');
    server.child.kill('SIGTERM');
    const exit = await waitExit(server, 30_000);
    expect(exit, server.output()).toEqual({ code: 0, signal: null });
    await Promise.all([stalledClosed, idleClosed]);

    const log = server
      .streams()
      .stdout.split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const drop = log.find((l) => String(l.msg).startsWith('drain deadline passed'));
    expect(drop, server.output()).toMatchObject({
      level: 40,
      drain_timeout_s: 1,
      dropped_requests: [{ method: 'POST', route: '/v1/contacts', phase: 'receiving', content_length: 1000 }],
    });
    expect(drop!.dropped_connections).toBeGreaterThanOrEqual(1);
    expect(log.find((l) => l.msg === 'stopped')).toMatchObject({ drained: false, dropped_requests: 1 });
  }, 120_000);
});
