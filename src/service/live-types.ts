import type { Policy } from '../core/policy/load.ts';
import type { ScoringModels } from '../core/scoring/score.ts';
import type { Manifest } from '../registry/manifest.ts';
import type { LoadedResponse } from '../registry/response-artifact.ts';

/** A model artifact loaded strictly and ready to score. */
export interface LoadedModel extends ScoringModels {
  dir: string;
  manifest: Manifest;
}

/** What the service scores and decides with right now; swapped whole, never edited in place. */
export interface LiveState {
  champion: LoadedModel;
  /** Scored in shadow (recorded in the ledger, never decides) when a CHALLENGER pointer exists. */
  challenger: LoadedModel | null;
  policy: Policy;
  policyPath: string;
  /**
   * Fitted treatment responses (`serve --response DIR`): an expected-value policy prices treatments from them
   * inside the logged support. Absent or null: lift tables only.
   */
  response?: LoadedResponse | null;
  /** When this state was loaded, ISO 8601 UTC. */
  loadedAt: string;
}

/** The result of a reload: what changed, and what was refused (the old one keeps serving). */
export interface ReloadOutcome {
  champion: { version: string; changed: boolean };
  challenger: { version: string | null; changed: boolean };
  policy: { version: string; changed: boolean };
  /** Why a new model or policy was refused; empty when everything loaded. */
  refused: string[];
}

/** The service's models and policy, kept current by reloads (admin route, file watch). */
export interface Live {
  current(): LiveState;
  /** Loads what the pointers and the policy file say now; a candidate that fails strict loading is refused. */
  reload(): Promise<ReloadOutcome>;
}
