/**
 * `type=inline`: the build cache's records carried in the image's own config, under the
 * top-level member `tsbuild.cache.v1` (BuildKit's member is `moby.buildkit.cache.v0`: the two
 * never meet). Only the image's own steps are recorded (mode=min), each as the number of the
 * image's bottom layers its result is, so the records name no blob: the image's manifest lists
 * the layer blobs, its config their diff ids and, in its history, their creation times. The
 * same config therefore serves every image output, whatever its layer compression.
 */
import { BuildError } from '../errors/index.js';
import { isDigest, type Descriptor, type Digest } from '../oci/index.js';
import type { CacheLayer } from './format.js';

/** The image config member that holds the records. */
export const INLINE_CACHE_FIELD = 'tsbuild.cache.v1';

/** A step's cache key and its result's layers (diff ids, bottom first). */
export interface InlineStep {
  readonly key: Digest;
  readonly diffIds: readonly Digest[];
}

/** The member's value: per step, its key and how many of the image's bottom layers its result is. */
export interface InlineCacheJson {
  readonly records: readonly { readonly key: Digest; readonly layers: number }[];
}

/**
 * The member for an image of layers `imageDiffIds`: the steps whose result is a bottom part of
 * the image (the others have layers the image does not carry, and are left out), one record
 * per key, sorted by key, so the same build gives the same bytes. Undefined when no step fits.
 */
export function encodeInlineCache(steps: Iterable<InlineStep>, imageDiffIds: readonly Digest[]): InlineCacheJson | undefined {
  const byKey = new Map<Digest, number>();
  for (const { key, diffIds } of steps) {
    if (diffIds.length > imageDiffIds.length || diffIds.some((d, i) => imageDiffIds[i] !== d)) continue;
    byKey.set(key, diffIds.length);
  }
  if (byKey.size === 0) return undefined;
  return { records: [...byKey.keys()].sort().map((key) => ({ key, layers: byKey.get(key)! })) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The records an image config carries, by key, their layers the manifest's `layers` (with the
 * config's diff ids and history times); undefined when the config has no such member. A
 * member that does not parse is refused whole (CACHE_IMPORT).
 */
export function parseInlineCache(config: Uint8Array, layers: readonly Descriptor[], where: string): Map<Digest, readonly CacheLayer[]> | undefined {
  const bad = (what: string) => new BuildError('CACHE_IMPORT', `the build cache in the image at ${where} does not parse: ${what}`);
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(config).toString('utf8'));
  } catch {
    throw bad('its config is not JSON');
  }
  if (!isObject(c)) throw bad('its config is not a JSON object');
  const member = c[INLINE_CACHE_FIELD];
  if (member === undefined) return undefined;
  const rootfs = c['rootfs'];
  const diffIds = isObject(rootfs) ? rootfs['diff_ids'] : undefined;
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length) throw bad(`its config does not list one diff id for each of its ${layers.length} layers`);
  // The history entries with a layer match the layers one to one; their times are the layers'.
  const history = Array.isArray(c['history']) ? (c['history'] as unknown[]).filter((h) => isObject(h) && h['empty_layer'] !== true) : [];
  const times = history.length === layers.length ? history.map((h) => (h as Record<string, unknown>)['created']) : [];
  const chain = layers.map((blob, i): CacheLayer => {
    const diffId: unknown = diffIds[i];
    if (typeof diffId !== 'string' || !isDigest(diffId)) throw bad(`diff id ${i} is not a digest`);
    const created = times[i];
    return { blob, diffId, ...(typeof created === 'string' && !Number.isNaN(Date.parse(created)) ? { created } : {}) };
  });
  if (!isObject(member) || !Array.isArray(member['records'])) throw bad(`its ${INLINE_CACHE_FIELD} has no records`);
  const records = new Map<Digest, readonly CacheLayer[]>();
  for (const r of member['records'] as unknown[]) {
    if (!isObject(r) || typeof r['key'] !== 'string' || !isDigest(r['key'])) throw bad('a record has no key');
    const n = r['layers'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > chain.length) throw bad(`record ${r['key']} names ${String(n)} of the image's ${chain.length} layers`);
    records.set(r['key'], chain.slice(0, n));
  }
  return records;
}
