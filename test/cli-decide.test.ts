import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAccount, makeContact } from './helpers/account.ts';
import { tmpDir } from './helpers/tmp.ts';

function repayrisk(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['bin/repayrisk.js', ...args], { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('repayrisk decide', () => {
  const dir = tmpDir();

  it('decides the documented example, one JSON decision per line with the promised fields', () => {
    const r = repayrisk(['decide', '--in', 'docs/examples/decide.jsonl', '--now', '2026-11-25T15:00:00Z']);
    expect(r.code, r.err).toBe(0);
    const out = lines(r.out);
    expect(out).toHaveLength(7);
    for (const d of out) {
      for (const k of [
        'account_id',
        'treatment',
        'channel',
        'earliest_contact_at',
        'guardrails',
        'reason_codes',
      ])
        expect(d, k).toHaveProperty(k);
      expect(d.policy_version).toBe('default-2026.11.1');
      if (d.earliest_contact_at !== null) expect(d.earliest_contact_at).toMatch(/[+-]\d\d:\d\d$/);
    }
    const byId = Object.fromEntries(out.map((d) => [d.account_id, d]));
    expect(byId.A1001.treatment).toBe('gentle_nudge');
    expect(byId.A1002.treatment).toBe('plan_offer');
    expect(byId.A1002.offer.monthly_payment).toBeGreaterThan(0);
    expect(byId.A1004.treatment).toBe('legal');
    expect(byId.A1005).toMatchObject({ treatment: 'plan_offer', guardrails: ['vulnerable_no_legal'] });
    expect(byId.A1006.guardrails).toEqual(['promise_pending', 'outside_contact_hours']);
    expect(byId.A1006.earliest_contact_at).toBe('2026-11-25T08:00:00-08:00');
    expect(byId.A1007).toMatchObject({ treatment: 'hold', channel: null, guardrails: ['dispute_open'] });
  });

  it('names the line and field of a malformed line, decides the others and exits 2', () => {
    const good = JSON.stringify({ account: makeAccount(), scores: { willingness: 0.9, ability: 0.9 } });
    const badScore = JSON.stringify({
      account: makeAccount({ account_id: 'B' }),
      scores: { willingness: 1.5, ability: 0.2 },
    });
    const badZone = JSON.stringify({
      account: makeAccount({ account_id: 'C', timezone: 'Mars/Olympus' }),
      scores: { willingness: 0.5, ability: 0.5 },
    });
    const foreign = JSON.stringify({
      account: makeAccount({ account_id: 'D' }),
      scores: { willingness: 0.5, ability: 0.5 },
      contacts: [makeContact({ account_id: 'Z', ts: '2026-11-20T15:00:00Z' })],
    });
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, [good, badScore, '', '{"account": ', badZone, foreign, good].join('\n'));
    const r = repayrisk(['decide', '--in', file, '--now', '2026-11-25T15:00:00Z']);
    expect(r.code).toBe(2);
    expect(lines(r.out).map((d) => d.account_id)).toEqual(['A0001', 'A0001']);
    expect(r.err).toContain('line 2: scores.willingness: Too big: expected number to be <=1 (got 1.5)');
    expect(r.err).toMatch(/line 4: \(line\): not JSON/);
    expect(r.err).toContain(
      'line 5: account.timezone: expected an IANA time zone (e.g. America/Chicago) (got "Mars/Olympus")',
    );
    expect(r.err).toContain('line 6: contacts.0.account_id: expected the account\'s own id "D" (got "Z")');
    expect(r.err).toContain('4 of 6 line(s)');
  });

  it('reads stdin, takes another policy and a call capacity', () => {
    const policy = join(dir, 'calls.yaml');
    writeFileSync(policy, 'version: calls-1\nmatrix: { high_willingness_high_ability: human_call }\n');
    const input = [0.95, 0.7, 0.8]
      .map((w, i) =>
        JSON.stringify({
          account: makeAccount({ account_id: `K${i}`, amount_overdue: 1000 * (i + 1) }),
          scores: { willingness: w, ability: 0.9 },
        }),
      )
      .join('\n');
    const r = repayrisk(
      ['decide', '--in', '-', '--policy', policy, '--now', '2026-11-25T15:00:00Z', '--call-slots', '1'],
      input,
    );
    expect(r.code, r.err).toBe(0);
    const out = lines(r.out);
    expect(out.map((d) => d.policy_version)).toEqual(['calls-1', 'calls-1', 'calls-1']);
    // One slot: the largest overdue gains most from a call; the others spill to the next-best treatment.
    expect(out.map((d) => d.treatment)).toEqual(['plan_offer', 'plan_offer', 'human_call']);
    expect(out[2].call_team).toBe('all');
    expect(out[0].reason_codes).toContain('CAPACITY_SPILL');
  });

  it('refuses a bad policy with every problem, and a bad --now', () => {
    const policy = join(dir, 'bad.yaml');
    writeFileSync(
      policy,
      'version: x\nsegments: { willingness_high: 3 }\nguardrails: { conversation_cooldown_days: 2 }\n',
    );
    const r = repayrisk(['decide', '--in', 'docs/examples/decide.jsonl', '--policy', policy]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('segments.willingness_high');
    expect(r.err).toContain(
      'guardrails.conversation_cooldown_days: expected at least 7 days (the floor of rule pack us-reg-f, 12 CFR 1006.14(b)(2)(i)(B)) (got 2)',
    );
    expect(r.out).toBe('');
    const now = repayrisk(['decide', '--in', 'docs/examples/decide.jsonl', '--now', '2026-11-25 15:00']);
    expect(now.code).toBe(2);
    expect(now.err).toContain('--now must be an ISO 8601 time with an offset');
    expect(readFileSync('docs/examples/decide.jsonl', 'utf8').split('\n').filter(Boolean)).toHaveLength(7);
  });
});
