/**
 * The OCI vocabulary every folder speaks: digests, descriptors, platforms, media types, the
 * image config, and JSON as Go writes it (image blobs are hashed). A shared leaf: types,
 * constants and pure functions over them; it imports no other folder.
 */
export { isDigest, digestAlgorithm, digestHex, type Digest, type DigestAlgorithm } from './digest.js';
export { descriptorObject, sortedRecord, type Descriptor, type Platform } from './descriptor.js';
export {
  MediaType, Annotation, layerMediaType, layerCompression, isManifestMediaType, isNondistributable, nondistributableMediaType, convertLayerMediaType, inLayerFlavour,
  type Compression,
} from './mediatypes.js';
export type { ImageConfig, DockerHealthcheck, HistoryEntry } from './image-config.js';
export { goJson, goJsonBytes, goTime } from './json.js';
