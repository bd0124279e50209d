import type { ModelKind } from './contract.ts';
import { gbdtKind } from './gbdt/gbdt.ts';
import type { KindName } from './kind-names.ts';
import { logisticKind } from './logistic.ts';
import { mlpKind } from './mlp.ts';
import { scorecardKind } from './scorecard.ts';

export { KIND_NAMES } from './kind-names.ts';

/** Every model kind by name; the registry refuses artifacts of kinds not listed here. */
export const KINDS: Readonly<Record<string, ModelKind>> = {
  logistic: logisticKind as unknown as ModelKind,
  scorecard: scorecardKind as unknown as ModelKind,
  mlp: mlpKind as unknown as ModelKind,
  gbdt: gbdtKind as unknown as ModelKind,
} satisfies Record<KindName, ModelKind>;
