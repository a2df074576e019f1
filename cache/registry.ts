/**
 * `type=registry`: the cache as a manifest in a registry repository under the ref's tag —
 * the same manifest, config and layer blobs a local cache holds, pushed the way images are
 * (blobs the repository lacks mounted or uploaded, the manifest last). An import reads the
 * manifest and the records at once and a layer blob only when a hit needs it.
 */
import { Readable } from 'node:stream';
import type { BlobSources, ContentProvider, Digest } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { formatReference, type ImageReference } from '../images/index.js';
import { MediaType } from '../oci/index.js';
import { ArtifactReader, pushBlobsOf, pushImage, type ConnectionOptions, type Credentials, type PushBlob, type PushOptions } from '../registry/index.js';
import { parseCacheConfig, parseCacheManifest, parseCacheMounts, type EncodedCache } from './format.js';
import type { CacheSource } from './local.js';

/** How to reach the registry: TLS, plain-HTTP hosts, the saved credentials. */
export type RegistryConnection = ConnectionOptions & { readonly credentials?: Credentials };

/**
 * The cache at `ref`. A tag the registry does not have is not an error (buildx warns and
 * builds without it): the reason comes back as `missing`. A manifest that is not a tsbuild
 * cache, or whose records do not parse, is refused (CACHE_IMPORT). Layers read are recorded in
 * `sources` as held by the repository, for cross-repository mounts on later pushes.
 */
export async function openRegistryCache(ref: ImageReference, conn: RegistryConnection, sources?: BlobSources): Promise<CacheSource | { readonly missing: string }> {
  const name = formatReference(ref);
  const where = `registry:${name}`;
  const reader = new ArtifactReader(ref, conn);
  const manifest = await reader.manifest([MediaType.ociManifest]);
  if (manifest === undefined) return { missing: `registry cache import from ${name} skipped: not found` };
  const parsed = parseCacheManifest(manifest.bytes, where);
  let config: Buffer;
  try {
    config = await reader.bytes(parsed.config);
  } catch (e) {
    throw new BuildError('CACHE_IMPORT', `the cache at ${where} cannot be read: ${(e as Error).message}`);
  }
  const records = parseCacheConfig(config, parsed.layers, where);
  return {
    where,
    records,
    mounts: parseCacheMounts(config, parsed.layers, where),
    async open(blob) {
      const stream = await reader.open(blob);
      await sources?.recordSource(blob.digest, ref.domain, ref.repository);
      return stream;
    },
  };
}

/**
 * The layers the cache already at `ref` lists (in the repository, since its manifest is);
 * none when there is none or it is not a cache. A registry that cannot be reached fails here.
 */
async function layersThere(ref: ImageReference, conn: RegistryConnection): Promise<Set<Digest>> {
  const manifest = await new ArtifactReader(ref, conn).manifest([MediaType.ociManifest]);
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
 * Pushes `cache` to `ref`: its layer blobs (from `content`) and config, then the manifest
 * under the ref's tag. The layers the cache now under that tag lists are known to be there and
 * are not probed; the others are mounted or uploaded as a push does. The manifest's digest.
 */
export async function writeRegistryCache(ref: ImageReference, cache: EncodedCache, content: ContentProvider, opts: PushOptions): Promise<Digest> {
  const present = await layersThere(ref, opts);
  const blobs = [...pushBlobsOf(content, cache.layers), bytesBlob(cache.config.descriptor, cache.config.bytes)];
  return pushImage(ref, blobs, { mediaType: MediaType.ociManifest, bytes: cache.manifest.bytes }, { ...opts, present });
}
