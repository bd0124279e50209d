import type { ModelKind } from '../core/models/contract.ts';
import { KIND_NAMES, KINDS } from '../core/models/kinds.ts';

/** A kind name, or `auto` to fit every kind and keep the best by out-of-time log-loss. */
export type KindChoice = string;

/** The kinds (with validated params) a `--kind` choice stands for. */
export function kindsFor(
  choice: KindChoice,
  params: Record<string, unknown> = {},
): { kind: ModelKind; params: unknown }[] {
  const names = choice === 'auto' ? KIND_NAMES : [choice];
  return names.map((n) => {
    const kind = KINDS[n];
    if (!kind) throw new Error(`unknown kind '${n}' (known: ${KIND_NAMES.join(', ')}, auto)`);
    return { kind, params: kind.parseParams(params[n] ?? {}) };
  });
}

/** What every training run is asked for, in either mode. */
export interface TrainRequest {
  modelsRoot: string;
  name: string;
  kind: KindChoice;
  seed: number;
  calibration: 'platt' | 'isotonic' | 'auto';
  /** Hyperparameters per kind name (validated by the kind). */
  params?: Record<string, unknown>;
  /** Creation time to record (ISO); default SOURCE_DATE_EPOCH or now. */
  createdAt?: string;
  onProgress?: (message: string) => void;
}
