/**
 * An image of the local store, made ready to push or export: base layers go as they were
 * pulled (unless the format asks otherwise); layers built here (kept as snapshots, never
 * compressed) are compressed once from their snapshots. Returns the blobs and the manifest.
 */
import { BuildError } from '../errors/index.js';
import { exportLayer, manifestBytes, type LayerFormat } from '../exporter/index.js';
import { readImageConfig, rememberLayerBlob, type ResolvedImage } from '../images/index.js';
import { isNondistributable, layerCompression, MediaType } from '../oci/index.js';
import type { Descriptor } from '../content/index.js';
import { diffTar } from '../snapshotter/index.js';
import { chainIds, snapshotForChain } from '../solver/ops/index.js';
import type { State } from '../solver/ops/index.js';

export interface PushableImage {
  readonly blobs: readonly Descriptor[];
  readonly manifest: { readonly mediaType: string; readonly bytes: Buffer };
}

export async function pushableImage(state: State, image: ResolvedImage, format: LayerFormat): Promise<PushableImage> {
  const { diffIds } = await readImageConfig(state.content, image);
  const ids = chainIds(diffIds);
  const layers = await Promise.all(
    image.layers.map(async (layer, i): Promise<Descriptor> => {
      const diffId = diffIds[i]!;
      const compression = layerCompression(layer.mediaType);
      // A non-distributable layer goes as its descriptor says, whether its blob is here or not
      // (pushes never send it); remembered, so that images built on it list it the same way.
      if (compression !== undefined && isNondistributable(layer.mediaType)) {
        await rememberLayerBlob(state.content, diffId, compression, layer);
        return layer;
      }
      // A pulled image's blobs are in the content store: they count as pulled layers.
      if (compression !== undefined && layer.digest !== diffId && (await state.content.has(layer.digest))) {
        await rememberLayerBlob(state.content, diffId, compression, layer);
      }
      const made = await exportLayer(state.content, diffId, format, async () => {
        const snapshot = await snapshotForChain(state, ids[i]!);
        if (snapshot === undefined) {
          throw new BuildError('IO', `layer ${i + 1} of ${image.name} is neither in the content store nor in a snapshot`, {
            hint: 'build the image again, then push it',
          });
        }
        return diffTar(await state.snapshots.upperDir(snapshot));
      });
      return made.blob;
    }),
  );
  const bytes = manifestBytes({ config: image.config, layers, ociMediaTypes: format.ociMediaTypes });
  await state.content.writeBlob(bytes);
  return {
    // Non-distributable layers among them are left out by pushImage.
    blobs: [...layers, image.config],
    manifest: { mediaType: format.ociMediaTypes ? MediaType.ociManifest : MediaType.dockerManifest, bytes },
  };
}
