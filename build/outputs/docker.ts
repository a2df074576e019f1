/** `type=docker`: a tarball `docker load` reads. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exportDescriptor, exportNames, writeDockerArchive } from '../../exporter/index.js';
import type { ExportContext } from './context.js';
import type { OutputOf } from './types.js';

export async function exportDocker(ctx: ExportContext, out: OutputOf<'docker'>): Promise<void> {
  const blobs = await ctx.forArchive(out.format);
  const ex = ctx.exported(blobs, out.names);
  await mkdir(dirname(out.dest), { recursive: true });
  await writeDockerArchive(out.dest, ex, out.names);
  ctx.report(blobs, exportDescriptor(ex), exportNames(out.names));
}
