/**
 * An image as blobs: assemble (config + manifest written into the content store) and read
 * back (manifest → config and layer descriptors), for OCI and Docker media types alike.
 */
import { sha256Of, isDigest, type ContentIngester, type ContentProvider, type Descriptor, type Digest } from '../content/index.js';
import { imageConfigBytes, type ImageConfigInput } from './config.js';
import { ExporterError } from './errors.js';
import { isManifestMediaType, layerCompression, MediaType } from '../oci/index.js';
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

/** A manifest and what it names; everything an output needs to copy the image. */
export interface ImageBlobs {
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** Writes the config and manifest blobs; the layer blobs must already be in the store. */
export async function assembleImage(store: ContentIngester, input: AssembleInput): Promise<ImageBlobs> {
  const oci = input.ociMediaTypes ?? true;
  const configJson = imageConfigBytes({ ...input, diffIds: input.layers.map((l) => l.diffId) });
  const configInfo = await store.writeBlob(configJson, { digest: sha256Of(configJson), size: configJson.length });
  const config: Descriptor = { mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, digest: configInfo.digest, size: configInfo.size };
  const manifestJson = manifestBytes({ config, layers: input.layers.map((l) => l.blob), ociMediaTypes: oci, annotations: input.annotations });
  const manifestInfo = await store.writeBlob(manifestJson, { digest: sha256Of(manifestJson), size: manifestJson.length });
  const parsed = parseManifest(manifestJson, manifestInfo.digest);
  return {
    manifest: { mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest, digest: manifestInfo.digest, size: manifestInfo.size },
    config: parsed.config,
    layers: parsed.layers,
  };
}

/** Reads a manifest blob and returns the descriptors it names. */
export async function readImageBlobs(provider: ContentProvider, manifest: Descriptor): Promise<ImageBlobs> {
  if (!isManifestMediaType(manifest.mediaType)) {
    throw new ExporterError('BAD_IMAGE', `${manifest.digest} is a ${manifest.mediaType}, not an image manifest`);
  }
  const parsed = parseManifest(await provider.readBytes(manifest.digest), manifest.digest);
  return { manifest, config: parsed.config, layers: parsed.layers };
}

/** The image config JSON of an image, parsed (for diff ids, history, platform). */
export async function readImageConfig(provider: ContentProvider, image: ImageBlobs): Promise<ParsedImageConfig> {
  const raw: unknown = JSON.parse((await provider.readBytes(image.config.digest)).toString('utf8'));
  if (!isObject(raw) || !isObject(raw['rootfs']) || !Array.isArray(raw['rootfs']['diff_ids'])) {
    throw new ExporterError('BAD_IMAGE', `config ${image.config.digest} has no rootfs.diff_ids`);
  }
  const diffIds = raw['rootfs']['diff_ids'].map((d: unknown) => {
    if (typeof d !== 'string' || !isDigest(d)) throw new ExporterError('BAD_IMAGE', `config ${image.config.digest}: bad diff id`);
    return d;
  });
  if (diffIds.length !== image.layers.length) {
    throw new ExporterError('BAD_IMAGE', `config lists ${diffIds.length} diff ids for ${image.layers.length} layers`);
  }
  return {
    architecture: typeof raw['architecture'] === 'string' ? raw['architecture'] : '',
    os: typeof raw['os'] === 'string' ? raw['os'] : '',
    ...(typeof raw['variant'] === 'string' ? { variant: raw['variant'] } : {}),
    ...(typeof raw['created'] === 'string' ? { created: raw['created'] } : {}),
    diffIds,
    raw,
  };
}

export interface ParsedImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly created?: string;
  readonly diffIds: readonly Digest[];
  /** The whole JSON, for fields this type does not name. */
  readonly raw: Readonly<Record<string, unknown>>;
}

function parseManifest(bytes: Uint8Array, digest: Digest): { config: Descriptor; layers: Descriptor[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ExporterError('BAD_IMAGE', `manifest ${digest} is not JSON`, { cause: e });
  }
  if (!isObject(raw) || raw['schemaVersion'] !== 2 || !Array.isArray(raw['layers'])) {
    throw new ExporterError('BAD_IMAGE', `manifest ${digest} is not a schema 2 image manifest`);
  }
  const config = toDescriptor(raw['config'], digest);
  const layers = raw['layers'].map((l: unknown) => {
    const d = toDescriptor(l, digest);
    if (layerCompression(d.mediaType) === undefined) throw new ExporterError('BAD_IMAGE', `manifest ${digest}: unknown layer type ${d.mediaType}`);
    return d;
  });
  return { config, layers };
}

/** A descriptor of a manifest, with its `urls` and annotations (a foreign layer needs its URLs). */
function toDescriptor(v: unknown, where: Digest): Descriptor {
  if (!isObject(v) || typeof v['mediaType'] !== 'string' || typeof v['digest'] !== 'string' || !isDigest(v['digest']) || typeof v['size'] !== 'number') {
    throw new ExporterError('BAD_IMAGE', `manifest ${where} has a malformed descriptor`);
  }
  const urls = v['urls'];
  if (urls !== undefined && (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string'))) {
    throw new ExporterError('BAD_IMAGE', `manifest ${where}: the urls of ${v['digest']} are not a list of strings`);
  }
  const annotations = v['annotations'];
  if (annotations !== undefined && (!isObject(annotations) || !Object.values(annotations).every((a) => typeof a === 'string'))) {
    throw new ExporterError('BAD_IMAGE', `manifest ${where}: the annotations of ${v['digest']} are not a map of strings`);
  }
  return {
    mediaType: v['mediaType'],
    digest: v['digest'],
    size: v['size'],
    ...(urls === undefined || urls.length === 0 ? {} : { urls: urls as string[] }),
    ...(annotations === undefined || Object.keys(annotations).length === 0 ? {} : { annotations: annotations as Record<string, string> }),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
