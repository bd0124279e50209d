/**
 * What a key may do: `score` (score, read decisions and account audit trails), `contacts` (record contacts),
 * `admin` (reload, metrics), `audit` (read decisions and contacts per account, nothing else). A module of its own
 * so `repayrisk keys --help` can name the scopes without loading the keys-file parser (yaml, zod).
 */
export const SCOPES = ['score', 'contacts', 'admin', 'audit'] as const;
export type Scope = (typeof SCOPES)[number];
