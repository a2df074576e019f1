/**
 * An image of the local store, made ready to push: layers that came from a registry go as
 * they were pulled; layers built here (kept as snapshots, never compressed) are compressed
 * once from their snapshots. Returns the blobs and the manifest to send.
 */
import { BuildError } from '../../errors/index.js';
import { compressLayer, manifestBytes, readImageConfig, type ResolvedImage } from '../../exporter/index.js';
import type { Descriptor } from '../../content/index.js';
import { diffTar } from '../../snapshotter/index.js';
import { chainIds, snapshotForChain } from './layers.js';
import type { State } from './state.js';

export interface PushableImage {
  readonly blobs: readonly Descriptor[];
  readonly manifest: { readonly mediaType: string; readonly bytes: Buffer };
}

export async function pushableImage(state: State, image: ResolvedImage): Promise<PushableImage> {
  const { diffIds } = await readImageConfig(state.content, image);
  const ids = chainIds(diffIds);
  const layers = await Promise.all(
    image.layers.map(async (layer, i): Promise<Descriptor> => {
      if (await state.content.has(layer.digest)) return layer; // pulled: pushed as it came
      const snapshot = await snapshotForChain(state, ids[i]!);
      if (snapshot === undefined) {
        throw new BuildError('IO', `layer ${i + 1} of ${image.name} is neither in the content store nor in a snapshot`, {
          hint: 'build the image again, then push it',
        });
      }
      const upper = await state.snapshots.upperDir(snapshot);
      return (await compressLayer(() => diffTar(upper), 'gzip', { store: state.content, diffId: diffIds[i]! })).blob;
    }),
  );
  const bytes = manifestBytes({ config: image.config, layers });
  await state.content.writeBlob(bytes);
  return { blobs: [...layers, image.config], manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes } };
}
