/** Media types of OCI (image-spec) and Docker (distribution schema 2) images. */

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /**
   * Layers with distribution restrictions (image-spec, deprecated since 1.1 but still found in
   * images): the blob may be absent from the registry and come from the descriptor's `urls`.
   */
  ociNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** Docker's name for the same ("foreign" layers, Windows base layers); containerd knows both. */
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** How a layer blob is compressed. */
export type Compression = 'gzip' | 'zstd' | 'uncompressed';

/** How a layer blob of this media type is compressed, or undefined when it is not a layer. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.dockerLayer:
    case MediaType.ociNondistributable:
    case MediaType.dockerForeignLayer:
      return 'uncompressed';
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.ociNondistributableGzip:
    case MediaType.dockerForeignLayerGzip:
      return 'gzip';
    case MediaType.ociLayerZstd:
    case MediaType.ociNondistributableZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

/** The layer media type for a compression; Docker schema 2 has no zstd type (undefined). */
export function layerMediaType(compression: Compression, oci: boolean): string | undefined {
  switch (compression) {
    case 'uncompressed':
      return oci ? MediaType.ociLayer : MediaType.dockerLayer;
    case 'gzip':
      return oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip;
    case 'zstd':
      return oci ? MediaType.ociLayerZstd : undefined;
  }
}

/**
 * Whether a blob of this media type is a non-distributable ("foreign") layer: OCI's
 * `…layer.nondistributable.…` types and Docker's `…rootfs.foreign.…` ones, whatever their
 * compression (the rule containerd applies). Pushes leave such blobs out (the registry may
 * refuse them, and their owner did not allow copies) and keep their descriptors, `urls` and
 * all; pulls fetch them from those `urls` when the registry lacks them. The one rule for the
 * registry client and the exporter alike.
 */
export function isNondistributable(mediaType: string): boolean {
  return mediaType.startsWith(NONDISTRIBUTABLE_PREFIX.oci) || mediaType.startsWith(NONDISTRIBUTABLE_PREFIX.docker);
}

const NONDISTRIBUTABLE_PREFIX = {
  oci: 'application/vnd.oci.image.layer.nondistributable.',
  docker: 'application/vnd.docker.image.rootfs.foreign.',
} as const;

/**
 * The non-distributable layer media type for a compression, OCI or Docker. Docker has no zstd
 * type (undefined); like skopeo, the OCI nondistributable types map to Docker's foreign ones
 * and back, `.tar` to `.tar` and `+gzip` to `.tar.gzip`.
 */
export function nondistributableMediaType(compression: Compression, oci: boolean): string | undefined {
  switch (compression) {
    case 'uncompressed':
      return oci ? MediaType.ociNondistributable : MediaType.dockerForeignLayer;
    case 'gzip':
      return oci ? MediaType.ociNondistributableGzip : MediaType.dockerForeignLayerGzip;
    case 'zstd':
      return oci ? MediaType.ociNondistributableZstd : undefined;
  }
}

/**
 * A layer media type in the flavour asked (OCI or Docker), keeping what it says: compression,
 * and whether the layer is non-distributable. Undefined for what the flavour cannot name (zstd
 * in Docker) or what is not a layer media type.
 */
export function convertLayerMediaType(mediaType: string, oci: boolean): string | undefined {
  const compression = layerCompression(mediaType);
  if (compression === undefined) return undefined;
  return isNondistributable(mediaType) ? nondistributableMediaType(compression, oci) : layerMediaType(compression, oci);
}

/** A layer blob's descriptor named as the flavour names it, or as it is where the flavour has no name for it. */
export function inLayerFlavour<D extends { readonly mediaType: string }>(blob: D, oci: boolean): D {
  return { ...blob, mediaType: convertLayerMediaType(blob.mediaType, oci) ?? blob.mediaType };
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export const Annotation = {
  /** OCI: the reference an index.json entry is known by (the tag, or in images/ the full name). */
  refName: 'org.opencontainers.image.ref.name',
  /** containerd/BuildKit: the full image name. */
  imageName: 'io.containerd.image.name',
  /** OCI: when the image (here: the index entry) was made. */
  created: 'org.opencontainers.image.created',
} as const;
