import { fileURLToPath } from 'node:url';

/**
 * The policy shipped with repayrisk (`policies/default.yaml`). A module of its own so the CLI can name it in its
 * help without loading the policy parser.
 */
export const DEFAULT_POLICY_PATH = fileURLToPath(new URL('../../policies/default.yaml', import.meta.url));
