/** `type=image`: the image named in the local store, and with `push=true` pushed under the same names. */
import { registerLayers } from '../../solver/ops/index.js';
import { isLazy } from '../image-result.js';
import { fetchedLayerBlobs } from '../lazy-layers.js';
import { pushableBlobs, pushToNames } from '../push.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportImage(ctx: ExportContext, out: OutputOf<'image'>): Promise<void> {
  // Pushed, the store keeps the very manifest the registry has (its compressed blobs are here
  // anyway), so the store, the registry and the reported digest agree.
  const blobs = out.push === undefined ? await ctx.forStore() : await ctx.forArchive(out.push);
  // A lazy image has no snapshots to register: the store holds its blobs instead (fetched,
  // not unpacked; a later FROM of it unpacks them).
  if (!isLazy(ctx.image.layers)) await registerLayers(ctx.state, ctx.image.layers);
  else await fetchedLayerBlobs(ctx.state.content, ctx.image.layers);
  for (const n of out.names) await ctx.state.images.tagImage(n, blobs.manifest);
  if (out.push !== undefined) await pushToNames(ctx.state, await pushableBlobs(ctx.state, blobs, ctx.provider), out.names, ctx.access);
  ctx.report(blobs, ctx.imageDescriptor(blobs), out.names);
}
