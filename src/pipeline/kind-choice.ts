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
