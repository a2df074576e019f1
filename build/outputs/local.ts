/** `type=local`: the image's root filesystem written into a directory. */
import { writeRootfsDir } from '../../exporter/index.js';
import { fileXattrs } from '../../snapshotter/index.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportLocal(ctx: ExportContext, out: OutputOf<'local'>): Promise<void> {
  await writeRootfsDir(out.dest, (await ctx.snapshotLayers()).map((l) => l.diffId), ctx.openTar, { setXattr: (path, name, value) => fileXattrs.set(path, name, value) });
}
