/**
 * The data contract's tables by name, in the order the docs list them. A module of its own so the CLI can name
 * them in its help without loading the column schemas (and zod); `tables.ts` defines exactly these (the type
 * checker holds the two together).
 */
export const TABLE_NAMES = [
  'accounts',
  'installments',
  'payments',
  'contacts',
  'treatments',
  'outcomes',
  'truth',
] as const;
