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
