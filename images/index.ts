/** The local image store, image references, reading an image of the content store, and the layer memo. */
export {
  openImageStore, DEFAULT_PRUNE_GRACE_MS,
  type ImageStore, type ImageStoreOptions, type ImageRecord, type ResolvedImage, type DiskUsage, type ImageUsage,
  type PruneOptions, type PruneResult,
} from './image-store.js';
export { readImageBlobs, readImageConfig, parseImageManifest, type ImageBlobs, type ParsedImageConfig } from './image.js';
export {
  parseImageName,
  normalizeImageName,
  dockerNormalizedName,
  familiarName,
  ociRefName,
  referenceProblem,
  normalizedReferenceProblem,
  parseReference,
  formatReference,
  type ImageName,
  type ImageReference,
} from './reference.js';
export { readLayerMemo, writeLayerMemo, rememberBlobAsIs, rememberLayerBlob, memoizedLayerBlobs, type LayerMemo, type LayerMemoFile, type ForeignLayer } from './layer-memo.js';
export { ImageError, isImageError, type ImageErrorReason } from './errors.js';
