/**
 * The images the ops unpack: by reference from the local image store, or through the build
 * context that stands for one; their layers read from the content store.
 */
import type { ContentStore } from '../content/index.js';
import { openLayerTar } from '../exporter/index.js';
import { readImageConfig, rememberBlobAsIs, type ImageBlobs } from '../images/index.js';
import type { ImageLayer, ImageResolver } from '../solver/ops/index.js';

export function storeImageResolver(
  content: ContentStore,
  /** The image a reference names (the local store). */
  byRef: (ref: string) => Promise<ImageBlobs>,
  /** The image a build context (by key) stands for. */
  byContext: (key: string) => Promise<ImageBlobs>,
): ImageResolver {
  return {
    async resolve(ref, context) {
      const image = context === undefined ? await byRef(ref) : await byContext(context);
      return { manifest: image.manifest.digest, layers: () => layersOf(content, image) };
    },
  };
}

async function layersOf(content: ContentStore, image: ImageBlobs): Promise<ImageLayer[]> {
  // Also checks that the config lists one diff id per manifest layer.
  const { diffIds } = await readImageConfig(content, image);
  return image.layers.map((layer, i) => ({
    diffId: diffIds[i]!,
    open: () => openLayerTar(content, layer),
    // Outputs and pushes reuse the blob as it came instead of compressing the layer again.
    unpacked: () => rememberBlobAsIs(content, diffIds[i]!, layer),
  }));
}
