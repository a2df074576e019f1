/** The ops, the state directory and one build end to end; what cli/ uses. */
export { build, type BuildRequest, type BuiltImage } from './build.js';
export { defaultRoot, openState, type State } from './state.js';
export { removeScratch } from './scratch.js';
export { layersOf, openSnapshotTar, registerLayers, type Layer } from './layers.js';
export { RunFailedError } from './ops.js';
export { pruneBuildCache, buildCacheEntries, imageSnapshots, pruneOrder, ALL_SNAPSHOTS, type CacheEntry, type PruneCacheOptions, type PruneCacheResult } from './prune.js';
export { pushableImage, type PushableImage } from './push.js';
export { contextKey, type BuildContextSpec } from './named-contexts.js';
export type { SecretSources, SshSources } from './exec-mounts.js';
export { pullToStore, type RegistryAccess } from './pull.js';
export type { Entitlement } from './env.js';
