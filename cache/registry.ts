/**
 * `type=registry`: the cache as a manifest in a registry repository under the ref's tag —
 * the same manifest, config and layer blobs a local cache holds, pushed the way images are
 * (blobs the repository lacks mounted or uploaded, the manifest last). An import reads the
 * manifest and the records at once and a layer blob only when a hit needs it; the ref may
 * also be an image whose config carries its records (`--cache-to type=inline`).
 */
import { Readable } from 'node:stream';
import { sha256Of, type BlobSources, type ContentProvider, type Digest } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { formatReference, parseImageManifest, parseReference, type ImageReference } from '../images/index.js';
import { MediaType, type Descriptor } from '../oci/index.js';
import {
  ArtifactReader, pushBlobs, pushBlobsOf, pushImage, type ConnectionOptions, type Credentials, type PlatformSpec, type PushBlob, type PushOptions,
} from '../registry/index.js';
import { isCacheIndex, parseCacheConfig, parseCacheManifest, parseCacheMounts } from './format.js';
import { parseInlineCache } from './inline.js';
import type { CacheSource } from './local.js';
import type { CacheWriter } from './writer.js';

/**
 * A cache's place as an import names it (`CacheSource.where`), for telling whether an export
 * goes where an import came from: a registry reference normalized as the import writes it.
 */
export function cachePlace(where: string): string {
  if (!where.startsWith('registry:')) return where;
  try {
    return `registry:${formatReference(parseReference(where.slice('registry:'.length)))}`;
  } catch {
    return where;
  }
}

/** How to reach the registry: TLS, plain-HTTP hosts, the saved credentials. */
export type RegistryConnection = ConnectionOptions & { readonly credentials?: Credentials };

/**
 * The cache at `ref`: a cache manifest, or an image (through an index, the one of `platform`)
 * whose config carries the records of `--cache-to type=inline` (inline.ts), its layers the
 * image's own. A tag the registry does not have, an index without `platform` and an image
 * without records are not errors (buildx builds without them): the reason comes back as
 * `missing`. A manifest that is neither, or records that do not parse, are refused
 * (CACHE_IMPORT). Layers read are recorded in `sources` as held by the repository, for
 * cross-repository mounts on later pushes.
 */
export async function openRegistryCache(
  ref: ImageReference,
  conn: RegistryConnection,
  sources: BlobSources | undefined,
  platform: PlatformSpec,
): Promise<CacheSource | { readonly missing: string }> {
  const name = formatReference(ref);
  const where = `registry:${name}`;
  const reader = new ArtifactReader(ref, conn);
  const manifest = await reader.platformManifest(platform, isCacheIndex);
  if (manifest === undefined) return { missing: `registry cache import from ${name} skipped: not found` };
  if ('noPlatform' in manifest) {
    const want = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    return { missing: `registry cache import from ${name} skipped: the index has no image for ${want} (it has: ${manifest.noPlatform})` };
  }
  const image = imageOf(manifest.bytes, where);
  const parsed = image ?? parseCacheManifest(manifest.bytes, where);
  let config: Buffer;
  try {
    config = await reader.bytes(parsed.config);
  } catch (e) {
    throw new BuildError('CACHE_IMPORT', `the cache at ${where} cannot be read: ${(e as Error).message}`);
  }
  const records = image === undefined ? parseCacheConfig(config, parsed.layers, where) : parseInlineCache(config, parsed.layers, where);
  if (records === undefined) return { missing: `registry cache import from ${name} skipped: the image has no build cache (built without --cache-to type=inline)` };
  return {
    where,
    records,
    mounts: parseCacheMounts(config, parsed.layers, where),
    async open(blob) {
      const stream = await reader.open(blob);
      await sources?.recordSource(blob.digest, ref.domain, ref.repository);
      return stream;
    },
    async noteSource(blob) {
      await sources?.recordSource(blob.digest, ref.domain, ref.repository);
    },
  };
}

/** The config and layers of an image manifest (OCI or Docker, config an image config); undefined for anything else. */
function imageOf(bytes: Buffer, where: string): { readonly config: Descriptor; readonly layers: readonly Descriptor[] } | undefined {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined; // parseCacheManifest says what is wrong
  }
  const config = typeof m === 'object' && m !== null ? (m as { config?: { mediaType?: unknown } }).config : undefined;
  if (config?.mediaType !== MediaType.ociConfig && config?.mediaType !== MediaType.dockerConfig) return undefined;
  try {
    return parseImageManifest(bytes, sha256Of(bytes));
  } catch (e) {
    throw new BuildError('CACHE_IMPORT', `the image at ${where} cannot be read: ${(e as Error).message}`);
  }
}

/**
 * The layers the cache already at `ref` lists (in the repository, since its manifest is);
 * none when there is none or it is not a cache. A registry that cannot be reached fails here.
 */
async function layersThere(ref: ImageReference, conn: RegistryConnection): Promise<Set<Digest>> {
  const manifest = await new ArtifactReader(ref, conn).manifest([MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifestList]);
  if (manifest === undefined) return new Set();
  try {
    return new Set(parseCacheManifest(manifest.bytes, formatReference(ref)).layers.map((l) => l.digest));
  } catch (e) {
    // Not a cache (it is replaced): every blob is probed as a push does.
    if (e instanceof BuildError && e.code === 'CACHE_IMPORT') return new Set();
    throw e;
  }
}

const bytesBlob = (descriptor: PushBlob['descriptor'], bytes: Buffer): PushBlob => ({
  descriptor,
  open: async (start = 0, end) => Readable.from([bytes.subarray(start, end)]),
});

/**
 * Opens an export to `ref`: each layer put is pushed at once (mounted or uploaded), and
 * `finish` pushes the config and then the manifest, which alone names the new cache: an
 * aborted export pushes no manifest. The layers `listed` (an import of this same ref read its
 * manifest) or, without it, those the cache now under the tag lists are not probed.
 */
export async function beginRegistryCache(ref: ImageReference, content: ContentProvider, opts: PushOptions, listed?: CacheSource): Promise<CacheWriter> {
  // What an import of the same ref listed: its records' layers and its cache mount archives.
  const present = new Set(
    listed === undefined
      ? await layersThere(ref, opts)
      : [...[...listed.records.values()].flatMap((chain) => chain.map((l) => l.blob.digest)), ...[...(listed.mounts?.values() ?? [])].map((m) => m.layer.blob.digest)],
  );
  const pushed = new Map<Digest, Promise<void>>();
  return {
    async putBlob(blob) {
      if (present.has(blob.digest)) return 'present';
      let p = pushed.get(blob.digest);
      if (p === undefined) {
        p = pushBlobs(ref, pushBlobsOf(content, [blob]), { ...opts, present });
        pushed.set(blob.digest, p);
      }
      await p;
      return 'stored';
    },
    async finish(cache) {
      const done = new Set(present);
      for (const [digest, p] of pushed) {
        await p;
        done.add(digest);
      }
      const blobs = [...pushBlobsOf(content, cache.layers), bytesBlob(cache.config.descriptor, cache.config.bytes)];
      await pushImage(ref, blobs, { mediaType: cache.manifest.descriptor.mediaType, bytes: cache.manifest.bytes }, { ...opts, present: done });
      return {};
    },
    async abort() {
      await Promise.allSettled(pushed.values());
    },
  };
}
