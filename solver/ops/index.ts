/** The op kinds, made from op descriptions by resolveOp, and the interfaces the build worker (build/) hands them. */
export { resolveOp, GraphResolver } from './resolve.js';
export type {
  OpDeps, OpStore, FileLocks, HeldFileLock, ImageResolver, ResolvedImage, ImageLayer, LocalContext, Executor, ProcessSpec, ProcessIO,
  SecretSources, SshSources, CacheMountRestorer, CacheMountSource,
} from './deps.js';
export type { PathMatcher, MatcherDir } from './path-matcher.js';
export { ExecOp, RunFailedError } from './exec-op.js';
export { OnPlatform } from './platform-op.js';
export { chainIds, layerCreated, layerOf, layersOf, openSnapshotTar, registerLayers, snapshotForChain, type Layer, type LayerStore } from './layers.js';
export { readRecord, writeRecord, removeRecord, snapshotExists } from './records.js';
export { cacheMountName, dropCacheMounts } from './cache-mounts.js';
export { unpackImage } from './unpack.js';
export { remoteSourceError } from './file/index.js';
export { StatCache } from './context/index.js';
export { materialize, type LazyChain, type LazyLayer, type LazyRef, type Ref, type SnapshotRef } from './ref.js';
