/** The build worker: the state directory, one build end to end, pull, push and prune; what cli/ uses. */
export { build, type BuildRequest, type BuiltImage } from './build.js';
export { pruneBuildCache, buildCacheEntries, imageSnapshots, pruneOrder, ALL_SNAPSHOTS, type CacheEntry, type PruneCacheOptions, type PruneCacheResult } from './prune.js';
export { pushableImage, type PushableImage } from './push.js';
export { contextKey, type BuildContextSpec } from './named-contexts.js';
export { pullToStore, type RegistryAccess } from './pull.js';
// What cli/ needs of images/ until outputs and push leave it: names, errors, reading an image.
export {
  isImageError, readImageConfig, parseImageName, referenceProblem, normalizedReferenceProblem, type ImageBlobs,
} from '../images/index.js';
export {
  defaultRoot, openState, removeScratch, layersOf, openSnapshotTar, registerLayers, RunFailedError,
  type State, type Layer, type SecretSources, type SshSources, type Entitlement,
} from '../solver/ops/index.js';
