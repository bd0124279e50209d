import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SNAPSHOT_FEATURES } from '../core/features/schema.ts';
import { ModelError } from '../core/models/contract.ts';
import { loadArtifact, readPointer } from '../registry/artifact.ts';
import { readPolicyFile } from '../registry/policy-file.ts';
import type { Live, LiveState, LoadedModel, ReloadOutcome } from './live-types.ts';
import { loadLiveResponse, responseScoringVersion } from './response-scores.ts';

/** Where the service finds its models and policy. */
export interface LiveSource {
  /** Models root (`models/`); the service reads `<root>/<name>/CHAMPION` and `CHALLENGER`. */
  modelsRoot: string;
  /** Model name under the root (default `repayrisk`). */
  modelName?: string;
  policyPath: string;
  /** Response artifact folder (`serve --response`); loaded once at start, kept across reloads. */
  responseDir?: string;
}

/**
 * Loads an artifact strictly for snapshot scoring (feature schema = the training feature builder's).
 * @throws ModelError when it fails strict loading or lacks a willingness or ability model.
 */
export async function loadScoringModel(dir: string): Promise<LoadedModel> {
  const a = await loadArtifact(dir, SNAPSHOT_FEATURES);
  const willingness = a.models.willingness;
  const ability = a.models.ability;
  if (!willingness || !ability)
    throw new ModelError(
      `${dir}: a scoring artifact needs willingness and ability models, has ${Object.keys(a.models).join(', ')}`,
    );
  return { dir, manifest: a.manifest, version: a.manifest.version, willingness, ability };
}

async function loadPointer(src: LiveSource, pointer: 'CHAMPION' | 'CHALLENGER'): Promise<LoadedModel | null> {
  const name = src.modelName ?? 'repayrisk';
  const version = readPointer(src.modelsRoot, name, pointer);
  if (!version) return null;
  return loadScoringModel(join(src.modelsRoot, name, version));
}

/**
 * Loads the state the service starts with.
 * @throws ModelError / PolicyError when the champion or the policy cannot be loaded (the service must not start).
 */
export async function loadLiveState(src: LiveSource, now: () => number = Date.now): Promise<LiveState> {
  const champion = await loadPointer(src, 'CHAMPION');
  if (!champion)
    throw new ModelError(
      `no CHAMPION in ${join(src.modelsRoot, src.modelName ?? 'repayrisk')}: train and promote a model first`,
    );
  const challenger = await loadPointer(src, 'CHALLENGER');
  const policy = await readPolicyFile(src.policyPath);
  const response = src.responseDir ? await loadLiveResponse(src.responseDir, champion.version) : null;
  return {
    champion,
    challenger,
    policy,
    policyPath: src.policyPath,
    response,
    loadedAt: new Date(now()).toISOString(),
  };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The service's live models and policy. `reload()` loads each part anew; a part that fails strict loading is
 * refused and the old one keeps serving. The new state is swapped in as one object, so a request in flight
 * finishes with the state it started with and the next one sees the new state — no request is dropped.
 */
export class LiveModels implements Live {
  private state: LiveState;
  private reloading: Promise<ReloadOutcome> | null = null;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    initial: LiveState,
    private readonly src: LiveSource,
    private readonly now: () => number = Date.now,
  ) {
    this.state = initial;
  }

  current(): LiveState {
    return this.state;
  }

  /** Concurrent calls share one reload. */
  reload(): Promise<ReloadOutcome> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadOutcome> {
    const old = this.state;
    const refused: string[] = [];
    let champion = old.champion;
    let challenger = old.challenger;
    let policy = old.policy;
    try {
      const c = await loadPointer(this.src, 'CHAMPION');
      // The response artifact's score lift reads this champion's scores: another champion needs refitted responses.
      const needs = responseScoringVersion(old.response);
      if (c && needs && c.version !== needs)
        refused.push(
          `champion: ${c.version} is not the scoring model the response artifact was fitted on (${needs}); refit the responses on it (train --response --model DIR) and restart; keeping ${old.champion.version}`,
        );
      else if (c) champion = c;
      else refused.push('champion: no CHAMPION pointer; keeping the current model');
    } catch (e) {
      refused.push(`champion: ${message(e)}; keeping ${old.champion.version}`);
    }
    try {
      challenger = await loadPointer(this.src, 'CHALLENGER');
    } catch (e) {
      refused.push(`challenger: ${message(e)}; keeping ${old.challenger?.version ?? 'none'}`);
    }
    try {
      policy = await readPolicyFile(this.src.policyPath);
    } catch (e) {
      refused.push(`policy: ${message(e)}; keeping ${old.policy.version}`);
    }
    this.state = {
      champion,
      challenger,
      policy,
      policyPath: this.src.policyPath,
      response: old.response ?? null,
      loadedAt: new Date(this.now()).toISOString(),
    };
    return {
      champion: { version: champion.version, changed: champion.version !== old.champion.version },
      challenger: {
        version: challenger?.version ?? null,
        changed: (challenger?.version ?? null) !== (old.challenger?.version ?? null),
      },
      policy: { version: policy.version, changed: policy !== old.policy },
      refused,
    };
  }

  /**
   * Reloads when the pointer files or the policy file change (debounced by `delayMs`, as editors and `promote`
   * write in several steps). `onReload` hears each outcome (for the log).
   */
  watch(onReload: (o: ReloadOutcome | Error) => void, delayMs = 250): void {
    const dir = join(this.src.modelsRoot, this.src.modelName ?? 'repayrisk');
    const kick = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.reload().then(onReload, onReload);
      }, delayMs);
    };
    // Directories, not files: pointers and policies are replaced by rename, which a file watch would lose.
    this.watchers.push(
      watch(dir, (_e, f) => {
        if (f === 'CHAMPION' || f === 'CHALLENGER') kick();
      }),
    );
    const policyDir = dirname(this.src.policyPath);
    const policyFile = basename(this.src.policyPath);
    this.watchers.push(
      watch(policyDir, (_e, f) => {
        if (f === policyFile) kick();
      }),
    );
  }

  /** Stops watching. */
  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearTimeout(this.timer);
  }
}
