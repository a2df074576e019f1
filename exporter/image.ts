/**
 * An image as blobs: assemble (config + manifest written into the content store), for OCI and
 * Docker media types alike; images/ reads them back.
 */
import { sha256Of, type ContentIngester } from '../content/index.js';
import { parseImageManifest, type ImageBlobs } from '../images/index.js';
import { MediaType, type Descriptor, type Digest } from '../oci/index.js';
import { imageConfigBytes, type ImageConfigInput } from './config.js';
import { manifestBytes } from './manifest.js';

export interface LayerRef {
  readonly diffId: Digest;
  /** The compressed (or not) blob the manifest lists. */
  readonly blob: Descriptor;
}

export interface AssembleInput extends Omit<ImageConfigInput, 'diffIds'> {
  readonly layers: readonly LayerRef[];
  /** Default true; false writes Docker schema 2 media types. */
  readonly ociMediaTypes?: boolean;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Writes the config and manifest blobs; the layer blobs must already be in the store. */
export async function assembleImage(store: ContentIngester, input: AssembleInput): Promise<ImageBlobs> {
  const oci = input.ociMediaTypes ?? true;
  const configJson = imageConfigBytes({ ...input, diffIds: input.layers.map((l) => l.diffId) });
  const configInfo = await store.writeBlob(configJson, { digest: sha256Of(configJson), size: configJson.length });
  const config: Descriptor = { mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, digest: configInfo.digest, size: configInfo.size };
  const manifestJson = manifestBytes({ config, layers: input.layers.map((l) => l.blob), ociMediaTypes: oci, annotations: input.annotations });
  const manifestInfo = await store.writeBlob(manifestJson, { digest: sha256Of(manifestJson), size: manifestJson.length });
  const parsed = parseImageManifest(manifestJson, manifestInfo.digest);
  return {
    manifest: { mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest, digest: manifestInfo.digest, size: manifestInfo.size },
    config: parsed.config,
    layers: parsed.layers,
  };
}
