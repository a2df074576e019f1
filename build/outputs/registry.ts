/** `type=registry`: the image pushed under its names, not kept in the local store. */
import { pushableBlobs, pushToNames } from '../push.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportRegistry(ctx: ExportContext, out: OutputOf<'registry'>): Promise<void> {
  const blobs = await ctx.forArchive(out.format);
  await pushToNames(ctx.state, await pushableBlobs(ctx.state, blobs, ctx.provider), out.names, ctx.access);
  ctx.report(blobs, ctx.imageDescriptor(blobs), out.names);
}
