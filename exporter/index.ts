/** Image assembly and outputs: config, manifests, layer blobs, the local image store, OCI layout, docker archive, rootfs. */
export { imageConfigObject, imageConfigBytes, type ImageConfigInput } from './config.js';
export { manifestObject, manifestBytes, type ManifestInput } from './manifest.js';
export {
  assembleImage, readImageBlobs, readImageConfig,
  type AssembleInput, type ImageBlobs, type LayerRef, type ParsedImageConfig,
} from './image.js';
export {
  compressLayer, exportLayer, openLayerTar, rememberLayerBlob, DEFAULT_LAYER_FORMAT,
  type CompressLayerOptions, type CompressedLayer, type LayerFormat,
} from './layers.js';
export {
  parseImageName,
  normalizeImageName,
  dockerNormalizedName,
  familiarName,
  ociRefName,
  referenceProblem,
  normalizedReferenceProblem,
  type ImageName,
} from './reference.js';
export {
  openImageStore, DEFAULT_PRUNE_GRACE_MS,
  type ImageStore, type ImageStoreOptions, type ImageRecord, type ResolvedImage, type DiskUsage, type ImageUsage,
  type PruneOptions, type PruneResult,
} from './image-store.js';
export { writeOciLayout, ociIndex, exportDescriptor, exportNames, type ExportImage, type OciLayoutOptions } from './oci-layout.js';
export { writeDockerArchive } from './docker-archive.js';
export { writeRootfsDir, writeRootfsTar, type OpenLayerTar, type RootfsDirOptions } from './rootfs.js';
export { ExporterError, isExporterError, type ExporterErrorReason } from './errors.js';
