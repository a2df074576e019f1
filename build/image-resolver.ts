/**
 * The images the ops unpack: by reference (the local store's, or one this build resolved in
 * its registry), or through the build context that stands for one; their layers read from the
 * content store, fetched into it first where they are not there yet.
 */
import type { ContentStore } from '../content/index.js';
import { fetchedLayerTar, openLayerTar } from '../exporter/index.js';
import { readImageConfig, rememberBlobAsIs, type ImageBlobs } from '../images/index.js';
import type { Descriptor } from '../oci/index.js';
import type { ImageLayer, ImageResolver, LazyLayer, ResolvedImage } from '../solver/ops/index.js';
import type { BaseImageSource } from './base-images.js';

export function storeImageResolver(
  content: ContentStore,
  /** The image a reference names. */
  byRef: (ref: string) => Promise<BaseImageSource>,
  /** The image a build context (by key) stands for. */
  byContext: (key: string) => Promise<BaseImageSource>,
): ImageResolver {
  return {
    async resolve(ref, context) {
      const { blobs, fetchLayer } = context === undefined ? await byRef(ref) : await byContext(context);
      const resolved: ResolvedImage = { manifest: blobs.manifest.digest, layers: () => layersOf(content, blobs, fetchLayer) };
      if (fetchLayer === undefined || blobs.layers.length === 0) return resolved;
      return { ...resolved, remote: { layers: () => lazyLayersOf(content, blobs), fetch: (layer) => fetchLayer(layer.blob) } };
    },
  };
}

async function layersOf(content: ContentStore, image: ImageBlobs, fetch?: (layer: Descriptor) => Promise<void>): Promise<ImageLayer[]> {
  // Also checks that the config lists one diff id per manifest layer.
  const { diffIds } = await readImageConfig(content, image);
  return image.layers.map((layer, i) => ({
    diffId: diffIds[i]!,
    // A layer still to fetch is read as it arrives (the unpack overlaps the download).
    open: () => (fetch === undefined ? openLayerTar(content, layer) : fetchedLayerTar(content, layer, fetch(layer))),
    ...(fetch === undefined ? {} : { fetch: () => fetch(layer) }),
    // Outputs and pushes reuse the blob as it came instead of compressing the layer again.
    unpacked: () => rememberBlobAsIs(content, diffIds[i]!, layer),
  }));
}

/**
 * The layers as a lazy chain takes them. Their times are those of the image's history entries
 * that made them (else the image's own), which an output's history takes only where the
 * image's history has none.
 */
async function lazyLayersOf(content: ContentStore, image: ImageBlobs): Promise<LazyLayer[]> {
  const { diffIds, raw } = await readImageConfig(content, image);
  const history = Array.isArray(raw['history']) ? (raw['history'] as { created?: unknown; empty_layer?: unknown }[]) : [];
  const times = history.filter((h) => h.empty_layer !== true).map((h) => (typeof h.created === 'string' ? h.created : undefined));
  const imageTime = typeof raw['created'] === 'string' ? raw['created'] : new Date(0).toISOString();
  return image.layers.map((blob, i) => ({ blob, diffId: diffIds[i]!, created: times[i] ?? imageTime }));
}
