/**
 * The layers of a lazy result (a hit of an imported cache, see cache-import.ts) as outputs and
 * cache exports take them: a blob as the cache holds it when the format takes it so (no read
 * at all: a push mounts it or finds it there), a blob fetched when bytes are needed (an
 * archive), the chain unpacked only when files are needed.
 */
import type { ContentProvider, ContentStore, Descriptor, Digest } from '../content/index.js';
import { exportLayer, openLayerTar, type LayerFormat } from '../exporter/index.js';
import { rememberBlobAsIs } from '../images/index.js';
import { isNondistributable, layerCompression, layerMediaType } from '../oci/index.js';
import { layersOf, type LayerStore, type Layer, type LazyChain, type LazyLayer } from '../solver/ops/index.js';

/**
 * The blob of `layer` in `format`. As exportLayer takes a blob that exists: in the wanted
 * compression as it is, in another as it is unless the format forces its own or cannot name
 * it; only then is the blob fetched and compressed again.
 */
export async function lazyLayerBlob(content: ContentStore, chain: LazyChain, layer: LazyLayer, format: LayerFormat): Promise<Descriptor> {
  const { blob, diffId } = layer;
  const compression = layerCompression(blob.mediaType);
  if (compression !== undefined && !isNondistributable(blob.mediaType)) {
    const asIs = { mediaType: layerMediaType(compression, true)!, digest: blob.digest, size: blob.size };
    if (compression === format.compression) return asIs;
    if (!format.force && (format.ociMediaTypes || layerMediaType(compression, false) !== undefined)) return asIs;
  }
  await chain.fetch(layer);
  await rememberBlobAsIs(content, diffId, blob);
  return (await exportLayer(content, diffId, format, () => openLayerTar(content, blob))).blob;
}

/** The chain's blobs as they are, fetched into the content store (what the local image store needs). */
export async function fetchedLayerBlobs(content: ContentStore, chain: LazyChain): Promise<Descriptor[]> {
  return Promise.all(
    chain.layers.map(async (layer) => {
      await chain.fetch(layer);
      await rememberBlobAsIs(content, layer.diffId, layer.blob);
      const compression = layerCompression(layer.blob.mediaType);
      return { ...layer.blob, ...(compression === undefined ? {} : { mediaType: layerMediaType(compression, true)! }) };
    }),
  );
}

/**
 * The content store, where a blob of one of `chains` is fetched into it the first time it is
 * read: an archive writer reads what it writes, a push opens only the blobs it uploads.
 * `chains` is read at each call: a cache export adds to it while the build runs.
 */
export function fetchingProvider(content: ContentProvider, chains: readonly LazyChain[]): ContentProvider {
  const find = (digest: Digest) => lazyLayerOf(chains, digest);
  const ready = (digest: Digest) => fetchIfLazy(chains, digest);
  return {
    has: async (digest) => find(digest) !== undefined || content.has(digest),
    info: async (digest) => {
      await ready(digest);
      return content.info(digest);
    },
    reader: async (digest, options) => {
      await ready(digest);
      return content.reader(digest, options);
    },
    readBytes: async (digest, limit) => {
      await ready(digest);
      return content.readBytes(digest, limit);
    },
  };
}

/**
 * The path of a blob in the content store, fetched into it first when it is a layer of one of
 * `chains` (read at each call): a gha export asks only for the blobs it uploads.
 */
export function fetchingBlobPath(content: ContentStore, chains: readonly LazyChain[]): (digest: Digest) => Promise<string> {
  return async (digest) => {
    await fetchIfLazy(chains, digest);
    return content.blobPath(digest);
  };
}

function lazyLayerOf(chains: readonly LazyChain[], digest: Digest): { chain: LazyChain; layer: LazyLayer } | undefined {
  for (const chain of chains) for (const layer of chain.layers) if (layer.blob.digest === digest) return { chain, layer };
  return undefined;
}

async function fetchIfLazy(chains: readonly LazyChain[], digest: Digest): Promise<void> {
  const found = lazyLayerOf(chains, digest);
  if (found !== undefined) await found.chain.fetch(found.layer);
}

/** The chain unpacked (once), as the snapshots' layers. */
export async function unpackedLayers(state: LayerStore, chain: LazyChain): Promise<Layer[]> {
  return layersOf(state, await chain.unpack());
}
