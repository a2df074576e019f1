/**
 * The outputs of a build: resolved once from the flags (cli/outputs.ts), exported here at the
 * end of the solve, one module per output type, then finalized (image ID, iidfile, metadata).
 * A new output type adds its case to `Output` (types.ts), a module beside these, and its line
 * in `exportOutputs`.
 */
import type { State } from '../state.js';
import type { BuiltImage } from '../build.js';
import type { RegistryAccess } from '../pull.js';
import { isLazy } from '../image-result.js';
import { unpackedLayers } from '../lazy-layers.js';
import { exportContext } from './context.js';
import { exportDocker } from './docker.js';
import { exportImage } from './image.js';
import { exportLocal } from './local.js';
import { exportOci } from './oci.js';
import { exportRegistry } from './registry.js';
import { exportTar } from './tar.js';
import type { Output, Written } from './types.js';

export type { Output, OutputOf, ExporterResponse, Written } from './types.js';
export { imageId, writeIidFile, writeMetadataFile } from './finalize.js';

/** Write every output in order; images are assembled once per layer format (uncompressed for the store). */
export async function exportOutputs(state: State, image: BuiltImage, outputs: readonly Output[], access: RegistryAccess, signal?: AbortSignal): Promise<Written> {
  // Outputs of files need the image unpacked: then every output takes the snapshots, as for
  // an image built here (a lazy image's store manifest would otherwise depend on the order).
  const built = isLazy(image.layers) && outputs.some((o) => o.type === 'local' || o.type === 'tar') ? { ...image, layers: await unpackedLayers(state, image.layers) } : image;
  const ctx = exportContext(state, built, access);
  for (const out of outputs) {
    // An interrupted build starts no further output (each one is written whole or not at all).
    signal?.throwIfAborted();
    switch (out.type) {
      case 'image':
        await exportImage(ctx, out);
        break;
      case 'oci':
        await exportOci(ctx, out);
        break;
      case 'docker':
        await exportDocker(ctx, out);
        break;
      case 'local':
        await exportLocal(ctx, out);
        break;
      case 'tar':
        await exportTar(ctx, out);
        break;
      case 'registry':
        await exportRegistry(ctx, out);
        break;
    }
  }
  return { response: ctx.response };
}
