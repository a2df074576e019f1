/**
 * `--cache-to type=inline`: the records of the image's own steps written into the image
 * config (cache/inline.ts), before the outputs, so every image output — the store, OCI and
 * Docker archives, pushes — writes the same config and the image ID includes the records, as
 * with BuildKit. mode=min only, as BuildKit's inline cache: a step of another stage has layers
 * the image does not carry.
 */
import { encodeInlineCache, INLINE_CACHE_FIELD, type InlineStep } from '../cache/index.js';
import type { Digest } from '../solver/core/index.js';
import { layersOf, type Ref } from '../solver/ops/index.js';
import type { CacheResults } from './cache-export.js';
import { isLazy, type ImageResult } from './image-result.js';
import type { State } from './state.js';

/** `--cache-to type=inline` (it takes no destination: the image outputs carry it). */
export interface InlineCacheExport {
  readonly type: 'inline';
}

/**
 * Whether `--cache-to type=inline` was asked for and an output carries an image config (the
 * store, an OCI or Docker archive, a push); asked for without one, it is a warning, as the
 * records would go nowhere.
 */
export function inlineWanted(cacheTo: readonly { readonly type: string }[], outputs: readonly { readonly type: string }[], warn: (message: string) => void): boolean {
  if (!cacheTo.some((c) => c.type === 'inline')) return false;
  if (outputs.some((o) => o.type === 'image' || o.type === 'oci' || o.type === 'docker' || o.type === 'registry')) return true;
  warn('--cache-to type=inline: no output writes an image config to carry the cache (use -t, --push or -o type=image|oci|docker|registry)');
  return false;
}

/**
 * `image` with the records in its config: the steps along the target's chain of roots, those
 * a hit left unsolved included (looked up: CacheResults.recorded), so that a build from the cache
 * writes the very config the build that made it wrote. Undefined records (no step fits the
 * image) leave the config as it is, with a warning.
 */
export async function withInlineCache<I extends ImageResult & { readonly cache: CacheResults }>(state: State, image: I, warn: (message: string) => void): Promise<I> {
  const recorded = ((await image.cache.recorded?.()) ?? []).filter((s) => s.onChain);
  const steps = await Promise.all(
    [...recorded, ...image.cache.chain].map(async ({ key, ref }): Promise<InlineStep> => ({ key, diffIds: await diffIdsOf(state, ref) })),
  );
  const value = encodeInlineCache(steps, (isLazy(image.layers) ? image.layers.layers : image.layers).map((l) => l.diffId));
  if (value === undefined) {
    warn('--cache-to type=inline: no step of the build has a result among the image\'s layers; the image carries no build cache');
    return image;
  }
  return { ...image, configExtra: { ...image.configExtra, [INLINE_CACHE_FIELD]: value } };
}

/** The diff ids of a result's layers, bottom first: a lazy one's from its records, nothing read. */
async function diffIdsOf(state: State, ref: Ref): Promise<Digest[]> {
  if ('lazy' in ref) return ref.lazy.layers.map((l) => l.diffId);
  return (await layersOf(state, ref.snapshot)).map((l) => l.diffId);
}
