import { renderContractDoc } from '../core/schema/contract-doc.ts';
import { CONTRACT_RULES } from '../core/schema/rules.ts';
import { TABLES } from '../core/schema/tables.ts';

/** Where the data-contract document lives, relative to the repository root. */
export const CONTRACT_DOC_PATH = 'docs/data-contract.md';

const INTRO = `
# Data contract

<!-- Generated from src/core/schema/tables.ts by \`npm run docs\`; a test fails when it is stale. -->

repayrisk reads historical data as one file per table, CSV (with a header row) or Parquet, in a history folder:
\`accounts\`, \`installments\`, \`contacts\`, \`treatments\`, \`outcomes\`, optionally \`payments\` (preferred when you have
it), and, for synthetic worlds, \`truth\`.
Files are named \`<table>.csv\` or \`<table>.parquet\`. Money is in one currency unit; dates are ISO \`YYYY-MM-DD\`;
timestamps are ISO 8601 with an offset. Extra columns are allowed and ignored. Check files with
\`repayrisk validate --history DIR\` (or \`--file F --table T\`): it streams, so files larger than memory are fine,
and it stops at the first 20 problems, naming file, row, column, what was expected and what came. When every cell
is valid it checks the [contract rules](#contract-rules) that relate cells, rows and tables to each other.

**Point-in-time rule.** Features for a snapshot dated \`as_of_date\` use only rows dated strictly before it:
instalments with \`due_date\` before it (counted as paid, in full, only when \`paid_date\` — the day it was paid
in full — is before it; a payment of any size shows from \`first_paid_date\` on; neither date is ever rewritten by
a later payment, so past features cannot depend on the future; with a \`payments\` table both days are derived
from the payments instead, see payments), contacts with \`ts\`
before its midnight UTC. **Labels** (DESIGN §4) come from \`outcomes\`: willingness = \`paid_30d > 0\`; ability =
\`paid_30d >= amount_overdue\` given \`paid_30d > 0\`.

"required: yes" means the column must be present and every cell filled; "value may be empty" means the column must
be present but a cell may be empty (CSV) or NULL (Parquet), which is read as a value of its own, not as zero.
`;

const RULES_INTRO = `
Rules that relate cells of a row, rows of an account, or tables to each other, checked by \`repayrisk validate\` once
every cell is valid (src/core/schema/rules.ts: each rule is written once as SQL, which \`validate\` runs over the
files, and once as JavaScript for rows in memory; a test holds the two equal). A violation is reported with file,
row (and CSV line), the rule's id, the cells it names, what was expected and what came, up to 5 rows per rule and
a count of the rest. **Errors** make \`validate\` exit with code 2; **warnings** are printed and the history is
still read.

\`paid_date_looks_like_last_payment\` is the leak guard: payments pay the oldest instalment first, so no instalment
due later can have been paid (even in part) before an earlier one's \`paid_date\`. A \`paid_date\` that is really
the account's last payment date — a natural but wrong mapping of many lenders' data — breaks this on most paid
instalments (on the 2,000-account sample world with \`paid_date\` so rewritten: 34,252 of 38,191 paid instalments)
and a truthful history never does (the same world as generated: 0). Features built on such dates see the future.
`;

/** The full text of docs/data-contract.md. */
export function contractDoc(): string {
  return renderContractDoc(Object.values(TABLES), INTRO, CONTRACT_RULES, RULES_INTRO);
}
