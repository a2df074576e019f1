/** The build worker: the state directory, one build end to end, pull, push and prune; what cli/ uses. */
export { build, type BuildRequest, type BuiltImage } from './build.js';
export { pruneBuildCache, buildCacheEntries, imageSnapshots, pruneOrder, ALL_SNAPSHOTS, type CacheEntry, type PruneCacheOptions, type PruneCacheResult } from './prune.js';
export { pushableImage, type PushableImage } from './push.js';
export { contextKey, type BuildContextSpec } from './named-contexts.js';
export { pullToStore, type RegistryAccess } from './pull.js';
export { defaultRoot, openState, type State } from './state.js';
export { removeScratch } from './scratch.js';
export { layersOf, openSnapshotTar, registerLayers, RunFailedError, type Layer, type SecretSources, type SshSources } from '../solver/ops/index.js';
export type { Entitlement } from './entitlement.js';
// Outputs: exported at the end of the solve, one module per type (build/outputs/), and push in one place.
export { exportOutputs, imageId, writeIidFile, writeMetadataFile, type Output, type OutputOf, type ExporterResponse, type Written } from './outputs/index.js';
export { pushStoredImage, type PushStoredRequest } from './push.js';
// What the CLI needs to read output flags (reference checks, layer formats) before anything runs.
export { DEFAULT_LAYER_FORMAT, normalizedReferenceProblem, parseImageName, referenceProblem, type Compression, type LayerFormat } from '../exporter/index.js';
export { parseReference } from '../registry/index.js';
export { loginToRegistry, logoutFromRegistry } from './login.js';
export { leaseBuildCache } from './lease.js';
// Small helpers and types of lower folders that are all the CLI needs of them.
export { removeOwnTempPathsSync, asDigest } from '../content/index.js';
export { csvFields, CsvError, hostPlatform, parseDockerfile, parsePlatform, planBuild, ramInBytes, type Platform } from '../frontend/index.js';
export type { SolveEvent } from '../solver/core/index.js';
export {
  diskUsage, imageFacts, pruneStore, storedImages, tagStoredImage, untagStoredImage,
  type DiskUsageSummary, type ImageFacts, type PruneRequest, type PruneSummary,
} from './store.js';
