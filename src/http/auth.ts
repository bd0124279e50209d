import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RepayriskError } from '../core/errors.ts';
import { type FieldIssue, fieldIssues, issueText } from '../core/schema/issues.ts';
import { SCOPES, type Scope } from './scopes.ts';

export { SCOPES, type Scope };

/** A rate limit: at most `max` requests per `timeWindowMs` milliseconds. */
export const rateLimitSchema = z.strictObject({
  max: z.number().int().positive(),
  timeWindowMs: z.number().int().positive(),
});
export type RateLimit = z.output<typeof rateLimitSchema>;

/** One API key as configured: never the key itself, only its SHA-256. */
export const apiKeySchema = z.strictObject({
  /** Names the key in logs, metrics and rate limits (the key itself never appears anywhere). */
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 letters, digits, dot, dash or underscore'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected the SHA-256 of the key as 64 lowercase hex digits (see hashKey)'),
  scopes: z.array(z.enum(SCOPES)).min(1, 'expected at least one scope'),
  /** Overrides the app's default per-key rate limit. */
  rateLimit: rateLimitSchema.optional(),
});
export type ApiKey = z.output<typeof apiKeySchema>;

/** A key file: `{ keys: [...] }` (a bare list is read as the keys). Ids and hashes must be unique. */
export const apiKeysSchema = z
  .strictObject({ keys: z.array(apiKeySchema).min(1, 'expected at least one key') })
  .superRefine((v, ctx) => {
    for (const field of ['id', 'sha256'] as const) {
      const seen = new Map<string, number>();
      v.keys.forEach((k, i) => {
        const first = seen.get(k[field]);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['keys', i, field],
            message: `duplicate ${field} (same as keys.${first}.${field})`,
          });
        else seen.set(k[field], i);
      });
    }
  });

/** The API key configuration was refused; `issues` names every failing field. */
export class ApiKeysError extends RepayriskError {
  readonly source: string;
  readonly issues: readonly FieldIssue[];
  constructor(source: string, issues: readonly FieldIssue[]) {
    super(
      'invalid_data',
      `API keys ${source} are invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${issueText(i)}`).join('\n'),
    );
    this.name = 'ApiKeysError';
    this.source = source;
    this.issues = issues;
  }
}

/** The SHA-256 of a plain key, as lowercase hex: what the key configuration stores. */
export function hashKey(plain: string): string {
  return createHash('sha256').update(plain, 'utf8').digest('hex');
}

/** A new random key (256 bits, base64url) and its hash; give `plain` to the client, store `sha256`. */
export function generateApiKey(): { plain: string; sha256: string } {
  const plain = `rr_${randomBytes(32).toString('base64url')}`;
  return { plain, sha256: hashKey(plain) };
}

/**
 * Validates API keys given as objects (e.g. built by the `serve` command).
 * @throws ApiKeysError naming every failing field (offending values are never echoed: one might be a key).
 */
export function validateApiKeys(raw: unknown, source: string): ApiKey[] {
  const parsed = apiKeysSchema.safeParse(Array.isArray(raw) ? { keys: raw } : raw, { reportInput: true });
  if (!parsed.success) throw new ApiKeysError(source, fieldIssues(parsed.error).map(keyIssue));
  return parsed.data.keys;
}

const SCOPE_ENTRY = /^keys\.\d+\.scopes\.\d+$/;

/**
 * A key-file issue as reported: a scope that is not one of SCOPES is named as an unknown scope with its value (a
 * short word); any other value is never echoed, since it might be a key pasted in the wrong place.
 */
function keyIssue(i: FieldIssue): FieldIssue {
  if (SCOPE_ENTRY.test(i.path) && i.got !== undefined) {
    const issue: FieldIssue = {
      path: i.path,
      message: `unknown scope (expected one of ${SCOPES.join(', ')})`,
    };
    if (/^"[A-Za-z0-9_-]{1,32}"$/.test(i.got)) issue.got = i.got;
    return issue;
  }
  return { path: i.path, message: i.message };
}

/**
 * Parses API keys from JSON or YAML text: `keys: [{ id, sha256, scopes: [score|contacts|admin|audit], rateLimit? }]`.
 * @throws ApiKeysError naming the source and every failing field.
 */
export function parseApiKeys(text: string, source: string): ApiKey[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new ApiKeysError(source, [
      { path: '(file)', message: `not valid YAML or JSON: ${(e as Error).message}` },
    ]);
  }
  return validateApiKeys(raw, source);
}

/** Longest key accepted from a request; longer ones are refused before hashing. */
const MAX_KEY_LENGTH = 512;

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`; null when none (or malformed). */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth) : null;
  let key = bearer?.[1] ?? null;
  if (key === null) {
    const x = headers['x-api-key'];
    if (typeof x === 'string') key = x.trim() || null;
  }
  return key && key.length <= MAX_KEY_LENGTH ? key : null;
}

/** The configured keys, looked up by the hash of a presented key in constant time per key. */
export class KeyRing {
  private readonly entries: { key: ApiKey; digest: Buffer }[];

  /** @throws ApiKeysError when the keys are invalid (duplicate ids or hashes, unknown scopes …). */
  constructor(keys: readonly ApiKey[]) {
    this.entries = validateApiKeys([...keys], '(app configuration)').map((key) => ({
      key,
      digest: Buffer.from(key.sha256, 'hex'),
    }));
  }

  /** The key whose hash matches, or null. Every configured key is compared, so timing does not tell which. */
  find(presented: string): ApiKey | null {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: ApiKey | null = null;
    for (const e of this.entries) if (timingSafeEqual(digest, e.digest) && found === null) found = e.key;
    return found;
  }
}
