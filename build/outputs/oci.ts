/** `type=oci`: an OCI image layout, as a tar file or (`tar=false`) a directory. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportDescriptor, exportNames, writeOciLayout } from '../../exporter/index.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportOci(ctx: ExportContext, out: OutputOf<'oci'>): Promise<void> {
  const blobs = await ctx.forArchive(out.format);
  const ex = ctx.exported(blobs, out.names);
  if (out.tar) await mkdir(dirname(out.dest), { recursive: true }); // as buildx makes a file output's parents
  await writeOciLayout({ dest: out.dest, tar: out.tar }, ex);
  ctx.report(blobs, exportDescriptor(ex), exportNames(out.names));
}
