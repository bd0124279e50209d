import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import { RepayriskError } from '../../core/errors.ts';
import { type ApiKey, generateApiKey, parseApiKeys, type Scope, validateApiKeys } from '../../http/auth.ts';

/** What `repayrisk keys create` was given, parsed by commander. */
export interface CreateOptions {
  id: string;
  scopes: string[];
  file?: string;
}

/** What `keys create` did: the new entry as stored, the key itself (shown once), and whether the file is new. */
export interface CreatedKey {
  file: string;
  entry: ApiKey;
  plain: string;
  created: boolean;
}

/** `repayrisk keys create`: appends the new key's hash and shows the key once, on stderr. */
export function createKeyAction(o: CreateOptions): void {
  const r = createKey({
    id: o.id,
    scopes: o.scopes,
    file: o.file ?? process.env.REPAYRISK_API_KEYS_FILE ?? 'keys.yaml',
  });
  // The terminal, never stdout: the key must not end up in a pipe or a log by accident, and it is not stored.
  process.stderr.write(
    [
      `${r.created ? 'created' : 'appended to'} ${r.file}: key '${r.entry.id}' with scopes ${r.entry.scopes.join(', ')} (only its SHA-256 is stored)`,
      'the key, shown this once (give it to the client; it cannot be recovered):',
      `  ${r.plain}`,
      `a running \`repayrisk serve --keys ${r.file}\` reads the file when it starts: restart it to accept the key`,
      '',
    ].join('\n'),
  );
}

/**
 * Makes a new key and appends its entry to `file` (created with mode 0600 when absent), keeping the file's
 * comments and layout; the file is replaced atomically (temp file + rename).
 * @throws ApiKeysError when the existing file is invalid or the new entry would be (a bad id, an unknown scope, an
 * id already present); RepayriskError (io) when the file cannot be read or written.
 */
export function createKey(o: { id: string; scopes: readonly string[]; file: string }): CreatedKey {
  let text: string | null = null;
  try {
    text = readFileSync(o.file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new RepayriskError('io', `cannot read API keys file ${o.file}: ${(e as Error).message}`);
  }
  const existing = text === null || text.trim() === '' ? [] : parseApiKeys(text, o.file);
  if (existing.some((k) => k.id === o.id))
    throw new RepayriskError(
      'invalid_argument',
      `--id ${o.id}: ${o.file} already has a key with this id (ids name keys in logs and must be unique); choose another id, or remove the old entry first`,
    );
  const { plain, sha256 } = generateApiKey();
  const entry = { id: o.id, sha256, scopes: [...o.scopes] as Scope[] };
  // The whole file as it will be, validated as `serve` will read it: a duplicate id, a bad id, an unknown scope.
  const all = validateApiKeys([...existing, entry], `${o.file} with the new key`);
  const stored = all[all.length - 1]!;

  const json = /\.json$/i.test(o.file) || (text !== null && /^\s*[[{]/.test(text) && isJsonText(text));
  let out: string;
  if (text === null || text.trim() === '') {
    out = json
      ? `${JSON.stringify({ keys: [stored] }, null, 2)}\n`
      : `# API keys for repayrisk serve: SHA-256 hashes only (repayrisk keys create)\nkeys:\n${yamlEntry(stored)}`;
  } else if (json) {
    const raw = JSON.parse(text) as unknown;
    const list = Array.isArray(raw) ? raw : (raw as { keys: unknown[] }).keys;
    list.push(stored);
    out = `${JSON.stringify(raw, null, 2)}\n`;
  } else {
    const doc = parseDocument(text);
    const list = isSeq(doc.contents) ? doc.contents : isMap(doc.contents) ? doc.contents.get('keys') : null;
    if (!isSeq(list))
      throw new RepayriskError('invalid_data', `${o.file}: expected a \`keys:\` list to append to`);
    const node = doc.createNode(stored);
    const scopes = node.get('scopes', true);
    if (isSeq(scopes)) scopes.flow = true;
    (list as YAMLSeq<unknown>).add(node);
    out = doc.toString({ flowCollectionPadding: false });
  }
  writeAtomically(o.file, out);
  return { file: o.file, entry: stored, plain, created: text === null };
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function yamlEntry(k: ApiKey): string {
  return `  - id: ${k.id}\n    sha256: ${k.sha256}\n    scopes: [${k.scopes.join(', ')}]\n`;
}

/** Writes beside the target and renames over it, keeping an existing file's mode (a new file is 0600). */
function writeAtomically(file: string, text: string): void {
  const mode = statSync(file, { throwIfNoEntry: false })?.mode ?? 0o600;
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, mode & 0o777);
    renameSync(tmp, file);
  } catch (e) {
    throw new RepayriskError('io', `cannot write API keys file ${file}: ${(e as Error).message}`);
  }
}
