// Issue 14: a stored answer is committed with the rows it answers, so a crash never leaves one without the other.
// A real `repayrisk serve` on a DuckDB file is SIGKILLed in the middle of a stream of keyed contact posts; after a
// restart every request is retried with its key and body. If rows had landed without their answer, the retry would
// record them again; if an answer had landed without its rows, the retry would replay contacts that do not exist.
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLedger } from '../src/ledger/open.ts';
import { killServes, startServe, waitExit, writeKeysFile } from './helpers/serve-process.ts';
import { tmpDir } from './helpers/tmp.ts';

const WRITERS = 6;
const ACKS_BEFORE_KILL = 80;
const BUDGET_MS = 10_000;
const BASE_MS = Date.parse('2026-11-20T00:00:00.000Z');

afterEach(killServes);

interface Answer {
  status: number;
  replayed: boolean;
  text: string;
}

/** POST /v1/contacts with an Idempotency-Key; rejects when no whole answer arrives (the server died). */
function postKeyed(url: string, body: string, key: string, auth: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/contacts`, {
      method: 'POST',
      agent,
      headers: {
        authorization: `Bearer ${auth}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'idempotency-key': key,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('answer cut short'));
      });
      res.on('end', () => {
        if (!res.complete) return reject(new Error('answer cut short'));
        resolve({
          status: res.statusCode ?? 0,
          replayed: res.headers['idempotent-replayed'] === 'true',
          text,
        });
      });
    });
    req.end(body);
  });
}

interface Attempt {
  key: string;
  body: string;
  ts: string[];
  first: Answer | null;
}

describe('Idempotency-Key across SIGKILL (repayrisk serve, DuckDB file)', () => {
  it('after a restart, retrying every request with its key records each exactly once', async () => {
    const dir = tmpDir('repayrisk-idem-crash-');
    const ledgerPath = join(dir, 'ledger.duckdb');
    const keys = writeKeysFile(dir);
    const serve = await startServe({ ledger: ledgerPath, keys: keys.path });
    const agent = new Agent({ keepAlive: true });
    const attempts: Attempt[] = [];
    let seq = 0;
    let acks = 0;
    let stop = false;
    let reach: () => void = () => undefined;
    const reached = new Promise<void>((r) => {
      reach = r;
    });
    const budget = setTimeout(() => reach(), BUDGET_MS);
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const ts = Array.from({ length: (i % 3) + 1 }, () => new Date(BASE_MS + seq++).toISOString());
        const contacts = ts.map((t) => ({
          account_id: `crash-w${w}`,
          ts: t,
          channel: 'sms',
          outcome: 'delivered',
          promise_amount: null,
          promise_date: null,
          agent_id: null,
        }));
        const a: Attempt = { key: `w${w}-${i}`, body: JSON.stringify({ contacts }), ts, first: null };
        attempts.push(a);
        try {
          a.first = await postKeyed(serve.url, a.body, a.key, keys.key, agent);
          if (a.first.status === 201 && ++acks >= ACKS_BEFORE_KILL) reach();
        } catch {
          return; // the server is gone
        }
      }
    };
    const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await reached;
    clearTimeout(budget);
    serve.child.kill('SIGKILL');
    stop = true;
    await waitExit(serve);
    await done;
    agent.destroy();
    const unanswered = attempts.filter((a) => a.first === null).length;
    expect(acks).toBeGreaterThan(0);
    expect(attempts.filter((a) => a.first !== null && a.first.status !== 201)).toEqual([]);

    const again = await startServe({ ledger: ledgerPath, keys: keys.path });
    const agent2 = new Agent({ keepAlive: true });
    const retries = await Promise.all(
      attempts.map((a) => postKeyed(again.url, a.body, a.key, keys.key, agent2)),
    );
    agent2.destroy();
    retries.forEach((r, i) => {
      const a = attempts[i]!;
      expect(r.status, a.key).toBe(201);
      // An acknowledged request was recorded with its answer: the retry is that answer.
      if (a.first) expect([r.replayed, r.text], a.key).toEqual([true, a.first.text]);
    });
    again.child.kill('SIGKILL');
    await waitExit(again);

    const ledger = await openLedger({ path: ledgerPath });
    try {
      const rows = await ledger.contactsFor(
        Array.from({ length: WRITERS }, (_, w) => `crash-w${w}`),
        BASE_MS,
      );
      const seen = [...rows.values()].flat().map((c) => c.ts);
      const sent = attempts.flatMap((a) => a.ts);
      // Every contact of every request once: nothing lost, nothing twice.
      expect(seen.sort()).toEqual([...sent].sort());
      process.stdout.write(
        `[idempotency-crash] ${attempts.length} requests (${acks} acknowledged before the kill, ${unanswered} unanswered), ` +
          `${sent.length} contacts; after restart and retry of all: ${seen.length} rows, ` +
          `${retries.filter((r) => r.replayed).length} replayed, ${retries.filter((r) => !r.replayed).length} run anew\n`,
      );
    } finally {
      await ledger.close();
    }
  }, 120_000);
});
