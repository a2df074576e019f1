/** Content descriptors and platforms (image-spec descriptor.md), and their JSON encoding. */
import type { Digest } from './digest.js';

/** An OS and CPU: of an image, of a descriptor in an index, of a build (`linux/arm/v7`). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** An OCI content descriptor; key order is the JSON order. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
}

/** A descriptor in the image-spec's field order, empty fields left out. */
export function descriptorObject(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls && d.urls.length > 0) out['urls'] = d.urls;
  if (d.annotations && Object.keys(d.annotations).length > 0) out['annotations'] = sortedRecord(d.annotations);
  if (d.platform) {
    const p: Record<string, unknown> = { architecture: d.platform.architecture, os: d.platform.os };
    if (d.platform.variant) p['variant'] = d.platform.variant;
    out['platform'] = p;
  }
  return out;
}

/** A string map with its keys sorted, as Go's encoding/json writes maps. */
export function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}
