/**
 * The OCI image layout output (image-spec image-layout.md): `oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`, as a directory or a tar. index.json names the image the way BuildKit
 * does: `io.containerd.image.name` = the name as Docker normalises it
 * (`docker.io/library/app:latest`), `org.opencontainers.image.ref.name` = its tag, which is
 * what `skopeo … oci:DIR:TAG` and `umoci --image DIR:TAG` look up; the entry also carries the
 * image's platform and `org.opencontainers.image.created`, as BuildKit's does.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { digestHex, type ContentProvider, type Descriptor } from '../content/index.js';
import type { TarHeader } from '../tarfs/index.js';
import type { ImageBlobs } from '../images/index.js';
import { Annotation, isNondistributable, MediaType, goJson, descriptorObject, type Platform } from '../oci/index.js';
import { dockerNormalizedName, ociRefName } from '../images/index.js';
import { writeDirAtomically } from './dir-output.js';
import { writeTarFile, type TarWriter } from './tar.js';


/** An image to write out: its blobs, where to read them, and the names to give it. */
export interface ExportImage {
  readonly provider: ContentProvider;
  readonly image: ImageBlobs;
  readonly names?: readonly string[];
  /** The index entry's `platform`. */
  readonly platform?: Platform;
  /**
   * The index entry's `org.opencontainers.image.created`. BuildKit writes the time of the
   * export there (or SOURCE_DATE_EPOCH); the caller passes the image's own creation time, so
   * that the same image always exports to the same bytes.
   */
  readonly created?: Date;
}

export interface OciLayoutOptions {
  readonly dest: string;
  /** true: one tar file at dest; false: a directory. */
  readonly tar: boolean;
}

const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';

/**
 * A layout tar's entry: a directory, or a file of `size` bytes; root's, at the epoch (fixed
 * owners and times keep the tar's bytes a function of the image alone).
 */
export function layoutEntry(name: string, size?: number): TarHeader {
  return size === undefined
    ? { name, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }
    : { name, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 0 };
}

export async function writeOciLayout(options: OciLayoutOptions, image: ExportImage): Promise<void> {
  const index = Buffer.from(goJson(ociIndex(image)));
  const blobs = await imageBlobList(image.provider, image.image);
  if (options.tar) {
    await writeTarFile(options.dest, async (w) => {
      await w.add(layoutEntry('blobs'));
      await w.add(layoutEntry('blobs/sha256'));
      await addBlobs(w, image.provider, blobs);
      await w.addBytes(layoutEntry('oci-layout', OCI_LAYOUT.length), Buffer.from(OCI_LAYOUT));
      await w.addBytes(layoutEntry('index.json', index.length), index);
    });
    return;
  }
  await writeDirAtomically(options.dest, async (dir) => {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    for (const b of blobs) {
      await pipeline(await image.provider.reader(b.digest), createWriteStream(join(dir, blobPath(b)), { mode: 0o644 }));
    }
    await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
    await writeFile(join(dir, 'index.json'), index);
  });
}

/**
 * The image's descriptor as BuildKit's OCI and docker exporters hand it on (and report it in
 * `containerimage.descriptor`): the manifest, its platform, its creation time.
 */
export function exportDescriptor(image: ExportImage): Descriptor {
  const m = image.image.manifest;
  return {
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.size,
    ...(image.created === undefined ? {} : { annotations: { [Annotation.created]: rfc3339Seconds(image.created) } }),
    ...(image.platform === undefined ? {} : { platform: image.platform }),
  };
}

/** index.json: one entry per name (or one entry without a name when the image has none). */
export function ociIndex(image: ExportImage): Record<string, unknown> {
  const desc = exportDescriptor(image);
  const names = exportNames(image.names ?? []);
  const manifests = names.length === 0
    ? [descriptorObject(desc)]
    : names.map((name) => descriptorObject({ ...desc, annotations: { ...desc.annotations, [Annotation.imageName]: name, [Annotation.refName]: ociRefName(name) } }));
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

/** The names an OCI layout or docker archive gives the image: normalised as Docker does (and BuildKit reports them). */
export function exportNames(names: readonly string[]): string[] {
  return names.map(dockerNormalizedName);
}

/** Go's time.RFC3339 of a UTC time: whole seconds, `Z`. */
function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Every blob of the image once, to write into a layout: layers, config, manifest. A
 * non-distributable layer goes in only when its blob is here; its descriptor in the manifest
 * (media type, `urls`) stays either way. Layouts disagree on this — skopeo leaves such blobs
 * out of an `oci:` layout (readers fetch them from the URLs), containerd's export puts them in
 * unless told to skip them — and this is the middle road: what we hold is copied (the image
 * works offline), what we never held is not asked for. The blob is normally here, fetched when
 * the base image was pulled; it is missing only when pruned since, or when an image was pushed
 * from a store that never held it.
 */
export async function imageBlobList(provider: ContentProvider, image: ImageBlobs): Promise<Descriptor[]> {
  const seen = new Set<string>();
  const out: Descriptor[] = [];
  for (const d of [...image.layers, image.config, image.manifest]) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (isNondistributable(d.mediaType) && !(await provider.has(d.digest))) continue;
    out.push(d);
  }
  return out;
}

export function blobPath(d: Descriptor): string {
  return `blobs/${d.digest.slice(0, d.digest.indexOf(':'))}/${digestHex(d.digest)}`;
}

export async function addBlobs(w: TarWriter, provider: ContentProvider, blobs: readonly Descriptor[]): Promise<void> {
  for (const b of blobs) {
    await w.addStream(layoutEntry(blobPath(b), b.size), await provider.reader(b.digest));
  }
}
