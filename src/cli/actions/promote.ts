import { RepayriskError } from '../../core/errors.ts';
import { promote } from '../../pipeline/promote.ts';

/** What `repayrisk promote` was given, parsed by commander. */
export interface PromoteOptions {
  model: string;
  history: string;
  maxAucDrop: number;
  maxEceRise: number;
}

/**
 * `repayrisk promote`: both models' out-of-time figures, then the new CHAMPION.
 * @throws RepayriskError `refused` (exit 3) naming every gate the candidate failed.
 */
export async function promoteAction(o: PromoteOptions): Promise<void> {
  const r = await promote(o.model.replace(/\/+$/, ''), o.history, {
    maxAucDrop: o.maxAucDrop,
    maxEceRise: o.maxEceRise,
  });
  for (const [t, c] of Object.entries(r.comparison)) {
    const h = c.champion
      ? `champion AUC ${c.champion.auc.toFixed(4)} ECE ${c.champion.ece.toFixed(4)}`
      : 'no champion';
    process.stdout.write(
      `${t.padEnd(12)} candidate AUC ${c.candidate.auc.toFixed(4)} ECE ${c.candidate.ece.toFixed(4)} | ${h}\n`,
    );
  }
  if (!r.promoted) {
    throw new RepayriskError(
      'refused',
      `not promoted: ${r.name}/${r.candidate} stays a candidate, ${r.champion} stays CHAMPION:\n  ${r.reasons.join('\n  ')}`,
    );
  }
  process.stdout.write(
    `CHAMPION of ${r.name} is now ${r.candidate}${r.champion && r.champion !== r.candidate ? ` (was ${r.champion})` : ''}\n`,
  );
}
