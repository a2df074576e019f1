/** Build cache export and import: the wire format every backend shares, and the backends (type=local so far). */
export {
  CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, CacheRecords, encodeCache, isCacheIndex, parseCacheConfig, parseCacheManifest, parseCacheMounts, cacheMountKey,
  type CacheForm, type CacheLayer, type CacheMountArchive, type CacheMountSeed, type CacheRecord, type EncodedBlob, type EncodedCache,
} from './format.js';
export { beginLocalCache, DEFAULT_CACHE_TAG, openLocalCache, writeLocalCache, type CacheSource, type LayoutContent } from './local.js';
export { encodeInlineCache, INLINE_CACHE_FIELD, parseInlineCache, type InlineCacheJson, type InlineStep } from './inline.js';
export { beginRegistryCache, cachePlace, openRegistryCache, type RegistryConnection } from './registry.js';
export {
  beginGhaCache, ghaMayRead, ghaMayWrite, openGhaCache, writeGhaCache, type GhaCacheMode, type GhaEndpoint, type GhaExportResult,
} from './gha/cache.js';
export type { CacheWriteSummary, CacheWriter, PutOutcome } from './writer.js';
