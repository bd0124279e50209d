/**
 * The model kinds' names, in the order `--kind auto` fits them. A module of its own so the CLI can list the
 * kinds in its help without loading the kinds themselves (the mlp kind pulls in TensorFlow.js); `kinds.ts`
 * builds its table from exactly these names (the type checker holds the two together).
 */
export const KIND_NAMES = ['logistic', 'scorecard', 'mlp', 'gbdt'] as const;

/** One model kind's name. */
export type KindName = (typeof KIND_NAMES)[number];
