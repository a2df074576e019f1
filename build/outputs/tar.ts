/** `type=tar`: the image's root filesystem as one tar file. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeRootfsTar } from '../../exporter/index.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportTar(ctx: ExportContext, out: OutputOf<'tar'>): Promise<void> {
  await mkdir(dirname(out.dest), { recursive: true });
  await writeRootfsTar(out.dest, (await ctx.snapshotLayers()).map((l) => l.diffId), ctx.openTar);
}
