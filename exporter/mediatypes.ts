/** Media types of OCI (image-spec) and Docker (distribution schema 2) images. */
import type { Compression } from '../content/index.js';

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
} as const;

export type { Compression };

/** How a layer blob of this media type is compressed, or undefined when it is not a layer. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.dockerLayer:
      return 'uncompressed';
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
      return 'gzip';
    case MediaType.ociLayerZstd:
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

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export const Annotation = {
  /** OCI: the reference an index.json entry is known by (the tag, or in images/ the full name). */
  refName: 'org.opencontainers.image.ref.name',
  /** containerd/BuildKit: the full image name. */
  imageName: 'io.containerd.image.name',
} as const;
