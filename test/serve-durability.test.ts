import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLedger } from '../src/ledger/open.ts';
import {
  killServes,
  postJson,
  startServe,
  stopServe,
  waitExit,
  waitListenerClosed,
  writeKeysFile,
} from './helpers/serve-process.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Durability of `repayrisk serve` when its process ends (DESIGN §2: a 201 from POST /v1/contacts means the rows
 * are committed). Real child processes and a real DuckDB file: SIGKILL mid-stream loses no acknowledged contact;
 * SIGTERM mid-stream finishes what it accepted, acknowledges exactly what it wrote, and exits promptly.
 *
 * Every contact carries a `ts` no other contact has (a base instant plus a global sequence in milliseconds), so the
 * ledger read afterwards says which request each row came from.
 */

const WRITERS = 8;
/** Acknowledged requests before the signal, unless the time budget runs out first. */
const ACKS_BEFORE_SIGNAL = 150;
const STREAM_BUDGET_MS = 12_000;
const BASE_MS = Date.parse('2026-11-20T00:00:00.000Z');
const accountOf = (writer: number) => `dur-w${writer}`;
const ACCOUNTS = Array.from({ length: WRITERS }, (_, w) => accountOf(w));

const contact = (account_id: string, ts: string) => ({
  account_id,
  ts,
  channel: 'sms',
  outcome: 'delivered',
  promise_amount: null,
  promise_date: null,
  agent_id: null,
});

/** One POST /v1/contacts and what came of it. */
interface Attempt {
  writer: number;
  /** The `ts` of each contact in the request (1-3 of them), unique across the whole stream. */
  ts: string[];
  /** pending until settled; acked = 201; http = any other status; network = no whole answer. */
  outcome: 'pending' | 'acked' | 'http' | 'network';
  status?: number;
  /** The socket error's code (ECONNREFUSED, ECONNRESET, …). */
  error?: string;
  /** A 201 body that does not say `recorded: n` with n contact ids. */
  badBody?: string;
  /** Still awaiting its answer when the signal was sent. */
  inFlightAtSignal: boolean;
}

/**
 * WRITERS concurrent closed-loop writers posting contacts (keep-alive connections of `agent`) until `stop()`; with
 * `untilNetworkError` they carry on through non-201 answers until their own request gets no answer (server gone).
 * `reached` resolves once `ACKS_BEFORE_SIGNAL` requests were acknowledged or the time budget ran out.
 */
function contactStream(url: string, key: string, agent: Agent, opts: { untilNetworkError: boolean }) {
  const attempts: Attempt[] = [];
  let seq = 0;
  let acks = 0;
  let stopped = false;
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  const budget = setTimeout(() => reach(), STREAM_BUDGET_MS);

  const writer = async (w: number) => {
    for (let i = 0; !stopped; i++) {
      const n = (i % 3) + 1;
      const ts = Array.from({ length: n }, () => new Date(BASE_MS + seq++).toISOString());
      const a: Attempt = { writer: w, ts, outcome: 'pending', inFlightAtSignal: false };
      attempts.push(a);
      try {
        const res = await postJson(
          `${url}/v1/contacts`,
          { contacts: ts.map((t) => contact(accountOf(w), t)) },
          { key, agent },
        );
        a.status = res.status;
        if (res.status === 201) {
          const body = JSON.parse(res.text) as { recorded?: unknown; contact_ids?: unknown };
          if (body.recorded !== n || !Array.isArray(body.contact_ids) || body.contact_ids.length !== n)
            a.badBody = res.text;
          a.outcome = 'acked';
          if (++acks >= ACKS_BEFORE_SIGNAL) reach();
        } else a.outcome = 'http';
      } catch (e) {
        a.outcome = 'network';
        a.error = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      if (a.outcome === 'network' || (a.outcome === 'http' && !opts.untilNetworkError)) return;
    }
  };
  const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w))).finally(() =>
    clearTimeout(budget),
  );

  return {
    attempts,
    reached,
    done,
    /** Marks every request still awaiting its answer as in flight at the signal; returns how many there are. */
    markInFlight(): number {
      const pending = attempts.filter((a) => a.outcome === 'pending');
      for (const a of pending) a.inFlightAtSignal = true;
      return pending.length;
    },
    stop(): void {
      stopped = true;
    },
  };
}

/** How a stream's requests ended, with a count per status or socket error for messages. */
function summary(attempts: readonly Attempt[]) {
  const by = (o: Attempt['outcome']) => attempts.filter((a) => a.outcome === o);
  const codes: Record<string, number> = {};
  for (const a of attempts) {
    const k = a.outcome === 'network' ? a.error! : a.outcome === 'http' ? String(a.status) : a.outcome;
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return {
    acked: by('acked'),
    http: by('http'),
    network: by('network'),
    pending: by('pending'),
    badBodies: attempts.filter((a) => a.badBody !== undefined).map((a) => a.badBody),
    codes,
  };
}

/** The contacts of `accounts` in the ledger file (open it only once no server holds it): rows per `ts`, and all. */
async function ledgerRows(path: string, accounts: readonly string[], walDir?: string) {
  const ledger = await openLedger({ path, ...(walDir ? { walDir } : {}) });
  try {
    const byTs = new Map<string, number>();
    for (const rows of (await ledger.contactsFor(accounts, 0)).values())
      for (const r of rows) byTs.set(r.ts, (byTs.get(r.ts) ?? 0) + 1);
    return { byTs, total: (await ledger.counts()).contacts };
  } finally {
    await ledger.close();
  }
}

const duplicates = (byTs: Map<string, number>) => [...byTs].filter(([, n]) => n > 1).map(([t]) => t);

afterEach(killServes);

describe('repayrisk serve: the ledger when the process ends mid-stream', () => {
  // With a write-ahead log (serve's default beside the DuckDB file, or `--wal DIR`; docs/ledger.md) the log is the
  // durability point, and the DuckDB file may hold none of an acknowledged contact when the process dies.
  it.each([
    ['the DuckDB file alone (--no-wal)', 'none'],
    ['the default write-ahead log beside the DuckDB file', 'beside'],
    ['a write-ahead log elsewhere (--wal)', 'elsewhere'],
  ] as const)(
    'SIGKILL during a stream of contact writes to %s loses no acknowledged contact, and a restart recovers',
    async (_, wal) => {
      const dir = tmpDir('repayrisk-durability-');
      const ledgerPath = join(dir, 'ledger.duckdb');
      const walDir =
        wal === 'elsewhere' ? join(dir, 'wal') : wal === 'beside' ? `${ledgerPath}-wal` : undefined;
      const args =
        wal === 'elsewhere'
          ? ['--no-watch', '--wal', walDir!]
          : wal === 'none'
            ? ['--no-watch', '--no-wal']
            : ['--no-watch'];
      const keys = writeKeysFile(dir);
      const agent = new Agent({ keepAlive: true });
      const t0 = Date.now();
      try {
        const first = await startServe({ ledger: ledgerPath, keys: keys.path, args });
        const stream = contactStream(first.url, keys.key, agent, { untilNetworkError: false });
        await stream.reached;
        stream.stop();
        const inFlight = stream.markInFlight();
        first.child.kill('SIGKILL');
        const killedAt = Date.now() - t0;
        await stream.done;
        expect(await first.exited, 'the first server ends by SIGKILL').toEqual({
          code: null,
          signal: 'SIGKILL',
        });

        const s = summary(stream.attempts);
        const lateAcks = s.acked.filter((a) => a.inFlightAtSignal);
        expect(
          s.http.map((a) => a.status),
          `non-201 answers before the kill: ${JSON.stringify(s.codes)}`,
        ).toEqual([]);
        expect(s.pending).toEqual([]);
        expect(s.badBodies, '201 bodies not matching their request').toEqual([]);
        expect(
          s.network.filter((a) => !a.inFlightAtSignal).map((a) => a.error),
          'requests that got no answer before the kill',
        ).toEqual([]);
        expect(s.acked.length - lateAcks.length, 'requests acknowledged before the kill').toBeGreaterThan(0);
        expect(inFlight, 'requests in flight when SIGKILL was sent (the kill is mid-stream)').toBeGreaterThan(
          0,
        );
        expect(lateAcks.length + s.network.length).toBe(inFlight);

        // The restart replays the WAL: it must come up ready, take a write, and stop gracefully.
        const second = await startServe({ ledger: ledgerPath, keys: keys.path, args });
        if (walDir)
          expect(second.streams().stderr, 'the banner names the log').toContain(`write-ahead log ${walDir}`);
        const probeTs = '2026-11-19T00:00:00.000Z';
        const probe = await postJson(
          `${second.url}/v1/contacts`,
          { contacts: [contact('probe', probeTs)] },
          { key: keys.key, agent: new Agent({ keepAlive: false }) },
        );
        expect(probe.status, `a write after the restart: ${probe.text}`).toBe(201);
        expect(await stopServe(second, 'SIGTERM'), `graceful stop; output:\n${second.output()}`).toEqual({
          code: 0,
          signal: null,
        });

        const found = await ledgerRows(ledgerPath, [...ACCOUNTS, 'probe'], walDir);
        const ackedTs = s.acked.flatMap((a) => a.ts);
        const sent = new Set([...stream.attempts.flatMap((a) => a.ts), probeTs]);
        // A request is one transaction: one that went unanswered landed whole or not at all.
        const landed = (a: Attempt) => a.ts.filter((t) => found.byTs.has(t)).length;
        const torn = s.network.filter((a) => landed(a) !== 0 && landed(a) !== a.ts.length);
        const rowsRead = [...found.byTs.values()].reduce((x, y) => x + y, 0);

        console.info(
          `[serve-durability] SIGKILL (${_}): ${s.acked.length} requests / ${ackedTs.length} contacts acknowledged ` +
            `(${lateAcks.length} of them answered after the kill); ${inFlight} requests in flight at the kill, ` +
            `${s.network.length} unanswered (${s.network.filter((a) => landed(a) > 0).length} of those landed); ` +
            `${found.total} rows in the ledger after the restart (1 probe); kill at ${killedAt} ms, ` +
            `total ${Date.now() - t0} ms`,
        );

        expect(
          ackedTs.filter((t) => !found.byTs.has(t)),
          'acknowledged contacts missing after SIGKILL and restart',
        ).toEqual([]);
        expect(duplicates(found.byTs), 'contacts recorded twice').toEqual([]);
        expect(
          [...found.byTs.keys()].filter((t) => !sent.has(t)),
          'rows nobody sent',
        ).toEqual([]);
        expect(
          torn.map((a) => a.ts),
          'unanswered requests that landed in part',
        ).toEqual([]);
        expect(found.byTs.get(probeTs), 'the contact written after the restart').toBe(1);
        expect(found.total, 'ledger rows = rows read back (none outside the stream)').toBe(rowsRead);
        expect(found.total).toBeGreaterThanOrEqual(ackedTs.length + 1);
      } finally {
        agent.destroy();
      }
    },
  );

  it('SIGTERM during a stream of contact writes acknowledges exactly what it wrote and exits 0', async () => {
    const dir = tmpDir('repayrisk-durability-');
    const ledgerPath = join(dir, 'ledger.duckdb');
    const keys = writeKeysFile(dir);
    const agent = new Agent({ keepAlive: true });
    const t0 = Date.now();
    try {
      const server = await startServe({ ledger: ledgerPath, keys: keys.path });
      // Writers keep going after the signal: requests sent while it closes get a 503 or a refused connection.
      const stream = contactStream(server.url, keys.key, agent, { untilNetworkError: true });
      await stream.reached;
      const inFlight = stream.markInFlight();
      server.child.kill('SIGTERM');
      await stream.done;
      // Drop the client's idle keep-alive connections: whether the server closes them itself is the next test.
      agent.destroy();
      const exit = await waitExit(server);
      expect(exit, `graceful stop; output:\n${server.output()}`).toEqual({ code: 0, signal: null });

      const s = summary(stream.attempts);
      expect(s.pending).toEqual([]);
      expect(s.badBodies, '201 bodies not matching their request').toEqual([]);
      expect(inFlight, 'requests in flight when SIGTERM was sent').toBeGreaterThan(0);
      expect(
        s.http.filter((a) => a.status !== 503).map((a) => a.status),
        'answers other than 201, and 503 while closing',
      ).toEqual([]);
      // Each writer ends on a request the server no longer takes: a refused connection, or a keep-alive socket
      // closed under it (ECONNRESET: a request the server never read). Anything else is a different fault.
      expect(
        s.network.filter((a) => a.error !== 'ECONNREFUSED' && a.error !== 'ECONNRESET').map((a) => a.error),
        'unexpected socket errors',
      ).toEqual([]);

      const found = await ledgerRows(ledgerPath, ACCOUNTS);
      const ackedTs = new Set(s.acked.flatMap((a) => a.ts));
      console.info(
        `[serve-durability] SIGTERM: ${s.acked.length} requests / ${ackedTs.size} contacts acknowledged, ` +
          `${inFlight} requests in flight at the signal ` +
          `(${stream.attempts.filter((a) => a.inFlightAtSignal && a.outcome === 'acked').length} answered 201), ` +
          `outcomes ${JSON.stringify(s.codes)}; ${found.total} rows in the ledger; total ${Date.now() - t0} ms`,
      );

      expect(
        [...ackedTs].filter((t) => !found.byTs.has(t)),
        'acknowledged contacts missing after SIGTERM',
      ).toEqual([]);
      expect(
        [...found.byTs.keys()].filter((t) => !ackedTs.has(t)),
        'contacts written but never acknowledged (a graceful stop drops no answer)',
      ).toEqual([]);
      expect(duplicates(found.byTs), 'contacts recorded twice').toEqual([]);
      expect(found.total, 'ledger rows = acknowledged contacts').toBe(ackedTs.size);
    } finally {
      agent.destroy();
    }
  });

  it('SIGTERM answers a request in flight and exits although its client keeps the keep-alive connection', async () => {
    const dir = tmpDir('repayrisk-durability-');
    const ledgerPath = join(dir, 'ledger.duckdb');
    const keys = writeKeysFile(dir);
    // One connection, kept alive as a load balancer's pool would keep it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const server = await startServe({ ledger: ledgerPath, keys: keys.path });
      const ts = '2026-11-21T00:00:00.000Z';
      const body = JSON.stringify({ contacts: [contact('held', ts)] });
      // Headers with `Expect: 100-continue`: the 100 proves the server read them (the request is active), and the
      // body follows only once the close has begun.
      const req = request(`${server.url}/v1/contacts`, {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${keys.key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      const answer = new Promise<{ status: number; connection: string | undefined; text: string }>(
        (resolve, reject) => {
          req.on('error', reject);
          req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              text += c;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }),
            );
          });
        },
      );
      await new Promise<void>((resolve, reject) => {
        req.once('continue', resolve);
        req.once('error', reject);
        req.flushHeaders();
      });
      server.child.kill('SIGTERM');
      await waitListenerClosed(server.url);
      req.end(body);
      const res = await answer;
      expect(res.status, `the request in flight at SIGTERM: ${res.text}`).toBe(201);

      // The client holds the now idle connection open, as pools do; the server must still exit on its own.
      const waitMs = 10_000;
      const exit = await Promise.race([
        server.exited,
        new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), waitMs).unref()),
      ]);
      expect(
        exit,
        `still running ${waitMs} ms after answering its last in-flight request (that answer said ` +
          `"Connection: ${res.connection}"): the idle keep-alive connection holds close() open until the ` +
          `server's keep-alive timeout (fastify default 72 s)`,
      ).toEqual({ code: 0, signal: null });
      agent.destroy();

      const found = await ledgerRows(ledgerPath, ['held']);
      expect(found.byTs.get(ts), 'the contact of the in-flight request').toBe(1);
      expect(found.total).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
