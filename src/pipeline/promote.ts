import { basename, dirname } from 'node:path';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import type { MetricSummary } from '../core/metrics/types.ts';
import { TARGETS, type Target } from '../core/training/labels.ts';
import { loadArtifact, readPointer, writePointer } from '../registry/artifact.ts';
import { datasetFor, evaluateOnDataset } from './evaluate-artifact.ts';

/** Promotion gates: the candidate must not be worse than the champion by more than these. */
export interface Gates {
  /** Largest allowed drop in out-of-time AUC, per target (default 0.005). */
  maxAucDrop: number;
  /** Largest allowed rise in out-of-time expected calibration error, per target (default 0.01). */
  maxEceRise: number;
}

export interface PromotionOutcome {
  promoted: boolean;
  name: string;
  candidate: string;
  champion: string | null;
  /** Per target: candidate and champion metrics on the same out-of-time rows. */
  comparison: Partial<Record<Target, { candidate: MetricSummary; champion: MetricSummary | null }>>;
  /** Why it was refused (empty when promoted). */
  reasons: string[];
}

/**
 * Moves CHAMPION to the candidate artifact if it passes the gates against the current champion on the same
 * out-of-time rows of `history` (the candidate's own out-of-time months). With no champion yet, it is promoted.
 */
export async function promote(
  candidateDir: string,
  history: string,
  gates: Gates,
): Promise<PromotionOutcome> {
  const cand = await loadArtifact(candidateDir, SNAPSHOT_FEATURES);
  const root = dirname(dirname(candidateDir));
  const name = cand.manifest.name;
  const version = basename(candidateDir);
  const champVersion = readPointer(root, name, 'CHAMPION');
  const out: PromotionOutcome = {
    promoted: false,
    name,
    candidate: version,
    champion: champVersion,
    comparison: {},
    reasons: [],
  };
  const ds = await datasetFor(history);
  const split = { ootMonths: cand.manifest.split.ootMonths ?? 3, seed: cand.manifest.seed };
  const candM = evaluateOnDataset(cand, ds, split);
  let champM: Record<Target, MetricSummary> | null = null;
  if (champVersion && champVersion !== version) {
    const champ = await loadArtifact(`${root}/${name}/${champVersion}`, SNAPSHOT_FEATURES);
    champM = evaluateOnDataset(champ, ds, split);
  }
  for (const t of TARGETS) {
    const c = candM[t];
    const h = champM?.[t] ?? null;
    out.comparison[t] = { candidate: c, champion: h };
    if (!h) continue;
    if (c.auc < h.auc - gates.maxAucDrop) {
      out.reasons.push(
        `${t}: out-of-time AUC ${c.auc.toFixed(4)} is ${(h.auc - c.auc).toFixed(4)} below the champion's ${h.auc.toFixed(4)} (allowed drop ${gates.maxAucDrop})`,
      );
    }
    if (c.ece > h.ece + gates.maxEceRise) {
      out.reasons.push(
        `${t}: expected calibration error ${c.ece.toFixed(4)} exceeds the champion's ${h.ece.toFixed(4)} by more than ${gates.maxEceRise}`,
      );
    }
  }
  if (out.reasons.length === 0) {
    writePointer(root, name, 'CHAMPION', version);
    out.promoted = true;
  }
  return out;
}
