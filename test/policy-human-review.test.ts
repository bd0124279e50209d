import { describe, expect, it } from 'vitest';
import { decide } from '../src/core/policy/decide.ts';
import { parsePolicy } from '../src/core/policy/load.ts';
import type { Scores } from '../src/core/policy/types.ts';
import type { AccountRow } from '../src/core/schema/tables.ts';
import { makeAccount } from './helpers/account.ts';

/**
 * A customer who asked for a human decision (PIPL art. 24, GDPR art. 22) gets `human_review`: never an automated
 * contact, never an automated legal step, with the scores and the strategy's suggestion for the reviewer. The
 * fixture account is a Chicago card account 95 days past due with every legal prerequisite met.
 */

const NOW = Date.parse('2026-11-25T18:00:00Z'); // noon in Chicago
const REVIEW = { requested_at: '2026-11-20T09:00:00.000Z' };
const MATRIX = parsePolicy({ version: 'review-matrix' }, 'test');
const VALUE = parsePolicy({ version: 'review-ev', mode: 'expected_value' }, 'test');

/** Score pairs covering every matrix cell, with the low-low cell (legal first) twice. */
const SCORES: Scores[] = [
  { willingness: 0.8, ability: 0.8 },
  { willingness: 0.8, ability: 0.2 },
  { willingness: 0.3, ability: 0.8 },
  { willingness: 0.3, ability: 0.2 },
  { willingness: 0.05, ability: 0.05, drivers: { willingness: ['days_past_due'], ability: ['income'] } },
];

describe('human review requested', () => {
  for (const policy of [MATRIX, VALUE])
    for (const scores of SCORES)
      it(`${policy.version}, willingness ${scores.willingness} / ability ${scores.ability}: human_review, with the strategy's suggestion`, () => {
        const account = makeAccount();
        const automated = decide(account, scores, { now: NOW, contacts: [] }, policy);
        const d = decide(account, scores, { now: NOW, contacts: [], humanReview: REVIEW }, policy);
        expect(d.treatment).toBe('human_review');
        expect(d.channel).toBeNull();
        expect(d.earliest_contact_at).toBeNull();
        expect(d.offer).toBeNull();
        // The reviewer sees what automation would have tried first, and the same scores and segment.
        expect(d.first_choice).toBe(automated.first_choice);
        expect(d.segment).toBe(automated.segment);
        expect(d.reason_codes).toContain('HUMAN_REVIEW_REQUESTED');
        expect(d.reasons.join(' ')).toContain(REVIEW.requested_at);
        expect(d.reason_codes.some((c) => c.startsWith('WILLINGNESS_'))).toBe(true);
        expect(d.reason_codes.some((c) => c.startsWith('ABILITY_'))).toBe(true);
        if (scores.drivers) expect(d.reason_codes).toContain('WILLINGNESS_DRIVER');
      });

  it('the low-low account that would go to legal goes to a person instead', () => {
    const scores = { willingness: 0.1, ability: 0.1 };
    const automated = decide(makeAccount(), scores, { now: NOW, contacts: [] }, MATRIX);
    expect(automated.treatment).toBe('legal');
    const d = decide(makeAccount(), scores, { now: NOW, contacts: [], humanReview: REVIEW }, MATRIX);
    expect(d.treatment).toBe('human_review');
    expect(d.first_choice).toBe('legal');
  });

  it('a suppressed account is still held for specialist review, whatever the request', () => {
    const suppressed: Partial<AccountRow>[] = [{ deceased_flag: true }, { bankruptcy_flag: true }];
    for (const o of suppressed) {
      const d = decide(
        makeAccount(o),
        { willingness: 0.1, ability: 0.1 },
        { now: NOW, contacts: [], humanReview: REVIEW },
        MATRIX,
      );
      expect(d.treatment).toBe('hold');
      expect(d.reason_codes).toContain('SUPPRESSED');
    }
  });

  it('outside contact hours too: nothing is scheduled', () => {
    const night = Date.parse('2026-11-26T05:00:00Z'); // 23:00 in Chicago
    const d = decide(
      makeAccount(),
      { willingness: 0.8, ability: 0.8 },
      { now: night, contacts: [], humanReview: REVIEW },
      MATRIX,
    );
    expect(d.treatment).toBe('human_review');
    expect(d.earliest_contact_at).toBeNull();
    expect(d.reason_codes).not.toContain('SCHEDULED');
  });
});
