/**
 * Reading an image of the content store: its manifest (OCI or Docker schema 2) → the config
 * and layer descriptors, and its config's platform, diff ids and history.
 */
import type { ContentProvider } from '../content/index.js';
import { isDigest, isManifestMediaType, layerCompression, type Descriptor, type Digest } from '../oci/index.js';
import { ImageError } from './errors.js';

/** A manifest and what it names; everything an output needs to copy the image. */
export interface ImageBlobs {
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** Reads a manifest blob and returns the descriptors it names. */
export async function readImageBlobs(provider: ContentProvider, manifest: Descriptor): Promise<ImageBlobs> {
  if (!isManifestMediaType(manifest.mediaType)) {
    throw new ImageError('BAD_IMAGE', `${manifest.digest} is a ${manifest.mediaType}, not an image manifest`);
  }
  const parsed = parseImageManifest(await provider.readBytes(manifest.digest), manifest.digest);
  return { manifest, config: parsed.config, layers: parsed.layers };
}

/** The image config JSON of an image, parsed (for diff ids, history, platform). */
export async function readImageConfig(provider: ContentProvider, image: ImageBlobs): Promise<ParsedImageConfig> {
  const raw: unknown = JSON.parse((await provider.readBytes(image.config.digest)).toString('utf8'));
  if (!isObject(raw) || !isObject(raw['rootfs']) || !Array.isArray(raw['rootfs']['diff_ids'])) {
    throw new ImageError('BAD_IMAGE', `config ${image.config.digest} has no rootfs.diff_ids`);
  }
  const diffIds = raw['rootfs']['diff_ids'].map((d: unknown) => {
    if (typeof d !== 'string' || !isDigest(d)) throw new ImageError('BAD_IMAGE', `config ${image.config.digest}: bad diff id`);
    return d;
  });
  if (diffIds.length !== image.layers.length) {
    throw new ImageError('BAD_IMAGE', `config lists ${diffIds.length} diff ids for ${image.layers.length} layers`);
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

/** The config and layer descriptors of a manifest's bytes (OCI or Docker schema 2). */
export function parseImageManifest(bytes: Uint8Array, digest: Digest): { config: Descriptor; layers: Descriptor[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ImageError('BAD_IMAGE', `manifest ${digest} is not JSON`, { cause: e });
  }
  if (!isObject(raw) || raw['schemaVersion'] !== 2 || !Array.isArray(raw['layers'])) {
    throw new ImageError('BAD_IMAGE', `manifest ${digest} is not a schema 2 image manifest`);
  }
  const config = toDescriptor(raw['config'], digest);
  const layers = raw['layers'].map((l: unknown) => {
    const d = toDescriptor(l, digest);
    if (layerCompression(d.mediaType) === undefined) throw new ImageError('BAD_IMAGE', `manifest ${digest}: unknown layer type ${d.mediaType}`);
    return d;
  });
  return { config, layers };
}

/** A descriptor of a manifest, with its `urls` and annotations (a foreign layer needs its URLs). */
function toDescriptor(v: unknown, where: Digest): Descriptor {
  if (!isObject(v) || typeof v['mediaType'] !== 'string' || typeof v['digest'] !== 'string' || !isDigest(v['digest']) || typeof v['size'] !== 'number') {
    throw new ImageError('BAD_IMAGE', `manifest ${where} has a malformed descriptor`);
  }
  const urls = v['urls'];
  if (urls !== undefined && (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string'))) {
    throw new ImageError('BAD_IMAGE', `manifest ${where}: the urls of ${v['digest']} are not a list of strings`);
  }
  const annotations = v['annotations'];
  if (annotations !== undefined && (!isObject(annotations) || !Object.values(annotations).every((a) => typeof a === 'string'))) {
    throw new ImageError('BAD_IMAGE', `manifest ${where}: the annotations of ${v['digest']} are not a map of strings`);
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
