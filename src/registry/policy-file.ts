import { readFile } from 'node:fs/promises';
import { RepayriskError } from '../core/errors.ts';
import { type Policy, parsePolicyText } from '../core/policy/load.ts';
import { DEFAULT_POLICY_PATH } from './policy-path.ts';

export { DEFAULT_POLICY_PATH };

/**
 * Reads and validates a policy file (YAML or JSON).
 * @throws RepayriskError (io) when the file cannot be read; PolicyError listing every problem when invalid.
 */
export async function readPolicyFile(path: string = DEFAULT_POLICY_PATH): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RepayriskError('io', `cannot read policy file ${path}: ${(e as Error).message}`);
  }
  return parsePolicyText(text, path);
}
