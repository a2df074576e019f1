/** The op kinds and what the build worker (build/) drives them with. */
export { defaultRoot, openState, type State } from './state.js';
export { removeScratch } from './scratch.js';
export { chainIds, layerOf, layersOf, openSnapshotTar, registerLayers, snapshotForChain, type Layer } from './layers.js';
export { ExecOp, RunFailedError, type LocalContext, type NamedSource, type OpEnv } from './ops.js';
export type { SecretSources, SshSources } from './exec-mounts.js';
export type { Entitlement } from './env.js';
export type { StatCache } from './context/index.js';
export { buildGraph, type BuildGraph, type StageGraph } from './graph.js';
export { fillHistoryTimes } from './history.js';
export { dropCacheMounts } from './cache-mounts.js';
export { OnPlatform } from './platform-op.js';
export { CacheIndex, forgetSnapshotUse, readSnapshotUse, recordSnapshotUse } from './records.js';
export type { Ref } from './ref.js';
/** Opens a context directory's stat cache; loaded on first use, as the context hashing is. */
export const openStatCache = async (file: string): Promise<import('./context/index.js').StatCache> =>
  (await import('./context/index.js')).StatCache.open(file);
