/**
 * Image manifests: OCI (image-spec manifest.md) or Docker distribution schema 2, which share
 * one shape (schemaVersion, mediaType, config, layers) and differ in media types.
 */
import type { Descriptor } from '../content/index.js';
import { ExporterError } from './errors.js';
import { convertLayerMediaType, descriptorObject, goJsonBytes, isNondistributable, layerCompression, MediaType, sortedRecord } from '../oci/index.js';

export interface ManifestInput {
  /** The config blob; its mediaType is replaced by the flavour's. */
  readonly config: Descriptor;
  /**
   * Layer blobs, bottom first; OCI or Docker layer media types, converted to the flavour's.
   * Their `urls` and annotations go into the manifest as they are (a non-distributable
   * layer keeps the URLs its blob comes from).
   */
  readonly layers: readonly Descriptor[];
  /** true (default): OCI media types; false: Docker schema 2 (`oci-mediatypes=false`). */
  readonly ociMediaTypes?: boolean;
  /** OCI manifests only. */
  readonly annotations?: Readonly<Record<string, string>>;
}

export function manifestObject(input: ManifestInput): Record<string, unknown> {
  const oci = input.ociMediaTypes ?? true;
  const out: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
    config: descriptorObject({ ...input.config, mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig }),
    layers: input.layers.map((l) => descriptorObject({ ...l, mediaType: flavourLayerType(l.mediaType, oci) })),
  };
  if (input.annotations && Object.keys(input.annotations).length > 0) {
    if (!oci) throw new ExporterError('NOT_SUPPORTED', 'Docker schema 2 manifests cannot carry annotations; use OCI media types');
    out['annotations'] = sortedRecord(input.annotations);
  }
  return out;
}

export function manifestBytes(input: ManifestInput): Buffer {
  return goJsonBytes(manifestObject(input));
}

function flavourLayerType(mediaType: string, oci: boolean): string {
  const compression = layerCompression(mediaType);
  if (compression === undefined) throw new ExporterError('BAD_IMAGE', `not a layer media type: ${mediaType}`);
  const converted = convertLayerMediaType(mediaType, oci);
  if (converted === undefined) {
    const what = isNondistributable(mediaType) ? `non-distributable ${compression} layers (${mediaType})` : `${compression} layers`;
    throw new ExporterError('NOT_SUPPORTED', `Docker media types have no ${what}; use oci-mediatypes=true${isNondistributable(mediaType) ? '' : ' or gzip'}`);
  }
  return converted;
}

/** Go writes map keys sorted; annotations are maps. */
