import { renderContractDoc } from '../core/schema/contract-doc.ts';
import { TABLES } from '../core/schema/tables.ts';

/** Where the data-contract document lives, relative to the repository root. */
export const CONTRACT_DOC_PATH = 'docs/data-contract.md';

const INTRO = `
# Data contract

<!-- Generated from src/core/schema/tables.ts by \`npm run docs\`; a test fails when it is stale. -->

repayrisk reads historical data as one file per table, CSV (with a header row) or Parquet, in a history folder:
\`accounts\`, \`installments\`, \`contacts\`, \`treatments\`, \`outcomes\` (and, for synthetic worlds, \`truth\`).
Files are named \`<table>.csv\` or \`<table>.parquet\`. Money is in one currency unit; dates are ISO \`YYYY-MM-DD\`;
timestamps are ISO 8601 with an offset. Extra columns are allowed and ignored. Check files with
\`repayrisk validate --history DIR\` (or \`--file F --table T\`): it streams, so files larger than memory are fine,
and it stops at the first 20 problems, naming file, row, column, what was expected and what came.

**Point-in-time rule.** Features for a snapshot dated \`as_of_date\` use only rows dated strictly before it:
instalments with \`due_date\` before it (counted as paid, in full, only when \`paid_date\` — the day it was paid
in full — is before it; a payment of any size shows from \`first_paid_date\` on; neither date is ever rewritten by
a later payment, so past features cannot depend on the future), contacts with \`ts\`
before its midnight UTC. **Labels** (DESIGN §4) come from \`outcomes\`: willingness = \`paid_30d > 0\`; ability =
\`paid_30d >= amount_overdue\` given \`paid_30d > 0\`.

"required: yes" means the column must be present and every cell filled; "value may be empty" means the column must
be present but a cell may be empty (CSV) or NULL (Parquet), which is read as a value of its own, not as zero.
`;

/** The full text of docs/data-contract.md. */
export function contractDoc(): string {
  return renderContractDoc(Object.values(TABLES), INTRO);
}
