/**
 * A build request carried out whole, as `tsbuild build` (and later the Action) asks for it:
 * the state directory opened and leased (prune leaves the build cache alone meanwhile), the
 * build, its outputs exported in order, and everything the build held released, whatever
 * happened. The caller parses input and renders; this does the rest.
 */
import type { BuildError } from '../errors/index.js';
import { build, type BuildRequest } from './build.js';
import { CacheExports, type CacheExport } from './cache-export.js';
import { inlineWanted, withInlineCache, type InlineCacheExport } from './cache-inline.js';
import { leaseBuildCache } from './lease.js';
import { exportOutputs, type Output, type Written } from './outputs/index.js';
import type { RegistryAccess } from './pull.js';
import { removeScratch } from './scratch.js';
import { openState } from './state.js';

export interface BuildJob extends Omit<BuildRequest, 'state'> {
  /** The state directory (`--root`). */
  readonly root: string;
  /** Resolved once from the flags (tags, --output, --push), written in this order. */
  readonly outputs: readonly Output[];
  /** How outputs reach registries (credentials, TLS, plain-HTTP hosts). */
  readonly access: RegistryAccess;
  /** --cache-to: layers uploaded as their steps commit; records and manifests written after the outputs, in this order (type=inline: into the image config, before them). */
  readonly cacheTo?: readonly (CacheExport | InlineCacheExport)[];
}

export interface BuildOutcome extends Written {
  /**
   * A cache export that failed without ignore-error: the build fails with it, once the
   * caller has written what it writes for a built image (ID file, metadata).
   */
  readonly cacheExportError?: BuildError;
}

export async function buildAndExport(job: BuildJob): Promise<BuildOutcome> {
  const state = await openState(job.root);
  const lease = await leaseBuildCache(state);
  // The build's helper processes, still exiting while the outputs are written.
  let exited: Promise<void> | undefined;
  const cacheTo = (job.cacheTo ?? []).filter((c): c is CacheExport => c.type !== 'inline');
  const exports = cacheTo.length === 0 ? undefined : new CacheExports(state, cacheTo, job.events, (message) => job.warn(message), job.access);
  let exportsDone = false;
  try {
    const built = await build({ ...job, state, ...(exports === undefined ? {} : { cacheExports: exports }) });
    exited = built.exited;
    const image = inlineWanted(job.cacheTo ?? [], job.outputs, (message) => job.warn(message)) ? await withInlineCache(state, built, (message) => job.warn(message)) : built;
    if (job.outputs.length === 0) job.warn('no output specified: the result stays in the build cache only (use -t NAME or -o)');
    const written = await exportOutputs(state, image, job.outputs, job.access, job.signal);
    if (exports === undefined) return written;
    job.signal.throwIfAborted();
    exportsDone = true;
    const cacheExportError = await exports.finish(image.cache);
    return cacheExportError === undefined ? written : { ...written, cacheExportError };
  } catch (e) {
    // A build that failed (or was interrupted) leaves every cache destination as it was.
    if (!exportsDone) await exports?.abort();
    throw e;
  } finally {
    await exited;
    await lease.release().catch(() => {});
    await removeScratch(state.tmpDir).catch(() => {});
  }
}
