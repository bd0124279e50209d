import { TREATMENTS } from '../../core/schema/enums.ts';
import type { AccountRow, TruthRow } from '../../core/schema/tables.ts';
import { expectedRecovery, LOGGED_TREATMENT_COUNT, type ResponseProfile, trueResponse } from './response.ts';

/**
 * The truth of the treatments the logging policy never takes (the staged flow's field visit and agency
 * placement): the truth table has columns only for the logged ones, so a backtest that replays a policy using the
 * others prices them here, from the snapshot's latents (`willingness_latent`, `ability_latent` of the truth row)
 * and the account's state, through the same `trueResponse` the generator draws outcomes from. The logged
 * treatments' columns recomputed this way equal the table's to its printed precision (a test holds them).
 */
export function truthOfTreatment(
  truth: Pick<TruthRow, 'willingness_latent' | 'ability_latent'>,
  account: Pick<
    AccountRow,
    'days_past_due' | 'deceased_flag' | 'bankruptcy_flag' | 'dispute_open' | 'amount_overdue'
  >,
  profile: ResponseProfile,
): { pPay: Float64Array; pCover: Float64Array; recovery: Float64Array } {
  const r = trueResponse(
    {
      w: truth.willingness_latent,
      a: truth.ability_latent,
      dpd: account.days_past_due,
      deceased: account.deceased_flag,
      bankrupt: account.bankruptcy_flag,
      disputeOpen: account.dispute_open,
    },
    profile,
  );
  const recovery = new Float64Array(TREATMENTS.length);
  for (let t = 0; t < TREATMENTS.length; t++)
    recovery[t] = expectedRecovery(account.amount_overdue, r.pPay[t]!, r.pCover[t]!);
  return { pPay: r.pPay, pCover: r.pCover, recovery };
}

/**
 * `truth` with the columns of the unlogged treatments added (`p_pay_<t>`, `p_cover_<t>`, `expected_recovery_<t>`
 * for field_visit and agency_placement), as a backtest's simulation estimator reads them. A new object; the
 * logged treatments' columns are the table's own.
 */
export function withStagedTruth(
  truth: TruthRow,
  account: AccountRow,
  profile: ResponseProfile,
): TruthRow & Record<string, number> {
  const r = truthOfTreatment(truth, account, profile);
  const out: Record<string, unknown> = { ...truth };
  for (let t = LOGGED_TREATMENT_COUNT; t < TREATMENTS.length; t++) {
    const name = TREATMENTS[t]!;
    out[`p_pay_${name}`] = r.pPay[t]!;
    out[`p_cover_${name}`] = r.pCover[t]!;
    out[`expected_recovery_${name}`] = r.recovery[t]!;
  }
  return out as TruthRow & Record<string, number>;
}
