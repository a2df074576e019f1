/** Build cache export and import: the wire format every backend shares, and the backends (type=local so far). */
export {
  CACHE_ARTIFACT_TYPE, CACHE_CONFIG_MEDIA_TYPE, encodeCache, parseCacheConfig, parseCacheManifest, parseCacheMounts, cacheMountKey,
  type CacheLayer, type CacheMountArchive, type CacheMountSeed, type CacheRecord, type EncodedBlob, type EncodedCache,
} from './format.js';
export { DEFAULT_CACHE_TAG, openLocalCache, writeLocalCache, type CacheSource, type LayoutContent } from './local.js';
export { openRegistryCache, writeRegistryCache, type RegistryConnection } from './registry.js';
export {
  ghaMayRead, ghaMayWrite, openGhaCache, writeGhaCache, type GhaCacheMode, type GhaEndpoint, type GhaExportResult,
} from './gha/cache.js';
