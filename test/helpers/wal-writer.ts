// A child process for test/wal-crash.test.ts: opens the ledger behind a write-ahead log and appends from several
// concurrent writers until it is killed, printing `ack <kind> <id>` for each append as soon as it resolves (the
// parent kills it with SIGKILL mid-stream and then checks every acknowledged record is in the ledger once).
// argv: <duckdb file> <wal dir> <round> <writers> <loadDelayMs>
import { openLedger } from '../../src/ledger/open.ts';

const [path, walDir, round, writersArg, delayArg] = process.argv.slice(2);
const writers = Number(writersArg);
const ledger = await openLedger({
  path: path!,
  walDir: walDir!,
  wal: { loadDelayMs: Number(delayArg), loadBatch: 50 },
});
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
let seq = 0;
process.stdout.write('ready\n');

async function writer(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const n = seq++;
    const id = `r${round}-w${w}-${i}`;
    const at = new Date(T0 + n).toISOString();
    if (i % 4 === 3) {
      await ledger.appendDecisions([
        {
          decision_id: `d-${id}`,
          decided_at: at,
          account_id: `acc-w${w}`,
          as_of_date: '2026-11-19',
          model_version: 'm',
          policy_version: 'p',
          experiment_arm: null,
          willingness: 0.5,
          ability: 0.5,
          expected_recovery: 10,
          segment: 's',
          treatment: 'human_call',
          channel: 'call',
          earliest_contact_at: null,
          call_team: 'east',
          offer: null,
          reason_codes: [],
          reasons: [],
          guardrails: [],
          shadow: null,
          request_id: null,
          drivers: { willingness: ['days_past_due (-0.84)'], ability: [] },
          rule_pack: 'us-reg-f',
          rule_pack_version: '1',
        },
      ]);
      process.stdout.write(`ack d d-${id}\n`);
    } else if (i % 8 === 1) {
      // A customer's request for a human decision (automated-decision rights), with its stored answer.
      await ledger.appendReviewEvents(
        [
          {
            event_id: `r-${id}`,
            account_id: `acc-w${w}`,
            kind: 'requested',
            ts: at,
            reported_ts: null,
            recorded_at: at,
            channel: 'web',
            case_ref: null,
            agent_id: null,
            outcome: null,
          },
        ],
        {
          scope: 'crash POST /v1/accounts/:id/human-review',
          key: `k-${id}`,
          fingerprint: '0'.repeat(64),
          request_id: id,
          created_at: at,
          status: 201,
          body: JSON.stringify({ event_id: `r-${id}` }),
        },
      );
      process.stdout.write(`ack r r-${id}\n`);
    } else {
      await ledger.appendContacts(
        [
          {
            contact_id: `c-${id}`,
            account_id: `acc-w${w}`,
            ts: at,
            channel: 'sms',
            outcome: 'delivered',
            promise_amount: null,
            promise_date: null,
            agent_id: null,
            recorded_at: at,
            decision_id: null,
            reported_ts: null,
          },
        ],
        {
          scope: 'crash POST /v1/contacts',
          key: `k-${id}`,
          fingerprint: '0'.repeat(64),
          request_id: id,
          created_at: at,
          status: 201,
          body: JSON.stringify({ contact_ids: [`c-${id}`] }),
        },
      );
      process.stdout.write(`ack c c-${id}\n`);
    }
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
