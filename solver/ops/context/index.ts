/**
 * The build context as the cache sees it: checksums of exactly the paths COPY/ADD select,
 * a persistent stat cache that makes re-hashing an unchanged context cost only `lstat`s,
 * and a walker of the included paths (for the context transfer).
 *
 *   const cache = await StatCache.open(join(root, 'context-stat-cache'));
 *   const key = await checksumPaths(ctx, ['src', '*.json'], { matcher, followLinks: true, statCache: cache });
 *   await cache.save();
 */
export { checksumPaths, checksumPathsAndTimes, type ChecksumOptions } from './checksum.js';
export { StatCache, StatCacheDir, type StatCacheOptions } from './stat-cache.js';
export { EntryStat } from './entry-stat.js';
export { walkContext, walkTree, type WalkEntry, type WalkOptions } from './walk.js';
export { EntryDigests, MAX_PATHS } from './entry-digests.js';
export { blake3File, type FileHasher } from './hash-file.js';
