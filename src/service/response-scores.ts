/**
 * Fitted treatment responses in the live service: `serve --response DIR` loads a response artifact (strictly, as
 * the backtest does) and every scored account's Scores get its per-treatment P(pay | t) and P(cover | pay, t)
 * inside the logged support, and the list of treatments outside it. An expected-value policy then prices each
 * treatment from the fitted response, falls back to its lift tables only outside the support, and says so
 * (RESPONSE_OUTSIDE_SUPPORT); a matrix policy reads none of it.
 */
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import type { Scores } from '../core/policy/types.ts';
import { type AccountArchive, archiveFeatures } from '../core/scoring/score.ts';
import { predictResponses, responseScores } from '../core/uplift/response-set.ts';
import { type LoadedResponse, loadResponseArtifact } from '../registry/response-artifact.ts';

/**
 * Loads a response artifact for the service (its feature schema must be this build's snapshot features; a score
 * lift must have been fitted on `scoringVersion`, the champion the service scores with).
 * @throws ModelError when it fails strict loading or was fitted on another scoring model; the service must not
 *   start on it.
 */
export function loadLiveResponse(dir: string, scoringVersion: string): Promise<LoadedResponse> {
  return loadResponseArtifact(dir, SNAPSHOT_FEATURES, scoringVersion);
}

/** The scoring model version a response artifact's score lift needs, or null when it needs none. */
export function responseScoringVersion(response: LoadedResponse | null | undefined): string | null {
  return response?.set.lift?.scoringVersion ?? null;
}

/**
 * `scores` (one per archive, in order, from scoring model `scoringVersion`) with the fitted responses of
 * `response` added; unchanged without one. Features come from the same builder the scores used, so the responses
 * see exactly what training saw.
 * @throws ModelError when the response's score lift was fitted on another scoring model (the live state refuses
 *   such a champion, so this is a guard).
 */
export function withResponses(
  archives: readonly AccountArchive[],
  scores: readonly Scores[],
  response: LoadedResponse | null | undefined,
  scoringVersion: string,
): Scores[] {
  if (!response || archives.length === 0) return [...scores];
  const x = archiveFeatures(archives);
  const pred = predictResponses(
    response.set,
    x,
    archives.map((a) => a.account.days_past_due),
    {
      willingness: scores.map((s) => s.willingness),
      ability: scores.map((s) => s.ability),
      version: scoringVersion,
    },
  );
  return scores.map((s, i) => ({ ...s, ...responseScores(pred, i) }));
}
