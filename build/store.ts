/**
 * The work behind `tsbuild images | tag | rmi | inspect | du | prune`: an image of the local
 * store with its config, the disk usage of images, blobs and build cache, and one prune of both.
 */
import { BuildError } from '../errors/index.js';
import { readLiveLeases } from '../content/index.js';
import { isImageError } from '../images/index.js';
import { readImageConfig, type ResolvedImage } from '../images/index.js';
import type { State } from './state.js';
import { ALL_SNAPSHOTS, buildCacheEntries, pruneBuildCache } from './prune.js';

export interface ImageFacts {
  readonly image: ResolvedImage;
  /** The image config as stored (created, config, history, rootfs, …). */
  readonly config: Readonly<Record<string, unknown>>;
  /** The sum of its layers' blob sizes. */
  readonly layers: number;
}

/** An image of the store by name; a name the store lacks (or cannot read as one) is "no such image". */
export async function imageFacts(state: State, name: string): Promise<ImageFacts> {
  let image;
  try {
    image = await state.images.resolveImage(name);
  } catch (e) {
    if (isImageError(e, 'IMAGE_NOT_FOUND') || isImageError(e, 'BAD_REFERENCE')) {
      throw new BuildError('IO', `no such image: ${name}`, { hint: 'list images with "tsbuild images"' });
    }
    throw e;
  }
  const config = (await readImageConfig(state.content, image)).raw;
  const layers = image.layers.reduce((sum, l) => sum + l.size, 0);
  return { image, config, layers };
}

/** The named images of the store with their facts, in the store's order (yielded as read). */
export async function* storedImages(state: State): AsyncGenerator<ImageFacts & { readonly name: string }> {
  for (const rec of await state.images.listImages()) yield { name: rec.name, ...(await imageFacts(state, rec.name)) };
}

/** Another name for an image of the store. */
export async function tagStoredImage(state: State, source: string, target: string): Promise<void> {
  const { image } = await imageFacts(state, source);
  await state.images.tagImage(target, image.manifest);
}

/** A name taken off the store (its blobs go with the next prune if nothing else uses them). */
export async function untagStoredImage(state: State, name: string): Promise<void> {
  await imageFacts(state, name);
  await state.images.removeImage(name);
}

export interface DiskUsageSummary {
  readonly images: number;
  /** Blobs of the content store, and what of them no image uses. */
  readonly blobs: { readonly size: number; readonly reclaimable: number };
  /** Committed snapshots, and what of them no image uses (what prune may remove). */
  readonly buildCache: { readonly size: number; readonly count: number; readonly reclaimable: number };
}

export async function diskUsage(state: State): Promise<DiskUsageSummary> {
  const usage = await state.images.imageDiskUsage();
  let snapshots = 0;
  let count = 0;
  for await (const s of state.snapshots.walk()) {
    if (s.kind !== 'committed') continue;
    snapshots += (await state.snapshots.usage(s.name)).size;
    count++;
  }
  // What no image uses: what prune may remove, and what --keep-storage limits.
  const cache = (await buildCacheEntries(state)).committed.reduce((sum, e) => sum + e.size, 0);
  return {
    images: usage.images.length,
    blobs: { size: usage.totalSize, reclaimable: usage.reclaimableSize },
    buildCache: { size: snapshots, count, reclaimable: cache },
  };
}

export interface PruneRequest {
  /** Compressed layers kept for exports go too. */
  readonly all: boolean;
  /** Bytes of build cache and unused blobs to keep, the least recently used going first. */
  readonly keepStorage?: number;
}

export interface PruneSummary {
  /** A build was running: the build cache was kept. */
  readonly buildRunning: boolean;
  readonly reclaimed: number;
  readonly blobs: number;
  readonly cacheSnapshots: number;
}

/** Unused build cache (unless a build runs), then unused blobs, within one storage budget. */
export async function pruneStore(state: State, req: PruneRequest): Promise<PruneSummary> {
  const live = await readLiveLeases(state.leasesDir, { removeStale: true });
  const buildRunning = live.snapshots.has(ALL_SNAPSHOTS);
  const cache = buildRunning
    ? { removed: 0, reclaimed: 0, kept: 0 }
    : await pruneBuildCache(state, req.keepStorage === undefined ? {} : { keepBytes: req.keepStorage });
  // One budget: what the build cache keeps counts against unused blobs too.
  const blobBudget = req.keepStorage === undefined ? undefined : Math.max(0, req.keepStorage - cache.kept);
  const blobs = await state.images.prune({ all: req.all, ...(blobBudget === undefined ? {} : { keepStorage: blobBudget }) });
  return { buildRunning, reclaimed: blobs.reclaimed + cache.reclaimed, blobs: blobs.deleted.length, cacheSnapshots: cache.removed };
}
