/**
 * The feature schema of a snapshot-mode artifact: what training records in the manifest and what every
 * loader of such an artifact (evaluate, promote, batch scoring, the live service) expects back. It lives in the
 * core, beside the feature definitions it is derived from, so that the service can check a model against it
 * without importing the training pipeline.
 */
import type { FeatureInfo } from '../models/contract.ts';
import { FEATURES, featureInfos } from './definitions.ts';

/** Names, order, types and categories of the snapshot features, as an artifact records them. */
export const SNAPSHOT_FEATURES: readonly FeatureInfo[] = featureInfos(FEATURES);
