/** Image assembly and outputs: config, manifests, layer blobs, OCI layout, docker archive, rootfs (images/ keeps the local store). */
export { imageConfigObject, imageConfigBytes, type ImageConfigInput } from './config.js';
export { manifestObject, manifestBytes, type ManifestInput } from './manifest.js';
export { assembleImage, type AssembleInput, type LayerRef } from './image.js';
export {
  compressLayer, exportLayer, fetchedLayerTar, openLayerTar, DEFAULT_LAYER_FORMAT,
  type CompressLayerOptions, type CompressedLayer, type LayerFormat,
} from './layers.js';
export { writeOciLayout, ociIndex, exportDescriptor, exportNames, type ExportImage, type OciLayoutOptions } from './oci-layout.js';
export { writeDirAtomically } from './dir-output.js';
export { writeDockerArchive } from './docker-archive.js';
export { writeRootfsDir, writeRootfsTar, type OpenLayerTar, type RootfsDirOptions } from './rootfs.js';
export { ExporterError, isExporterError, type ExporterErrorReason } from './errors.js';
