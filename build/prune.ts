/**
 * Build-cache garbage collection. The build cache is every snapshot no tagged image's layer
 * stack uses. Without a limit, all of it goes, leftovers of killed builds (active snapshots)
 * included. With `keepBytes`, as BuildKit's prune with keep-storage: while the committed
 * build cache is larger than the limit, one snapshot nothing builds on is removed at a time,
 * the least used first (least recently used, weighed with how often, as BuildKit ranks its
 * records). The caller makes sure no build is running (builds hold a lease while they run).
 */
import { readImageConfig } from '../images/index.js';
import { isSnapshotError, type SnapshotName } from '../snapshotter/index.js';
import { chainIds, snapshotForChain } from '../solver/ops/index.js';
import { forgetSnapshotUse, readSnapshotUse } from './cache-index.js';
import type { State } from './state.js';

/** What a running build's lease names: every snapshot is in use. */
export const ALL_SNAPSHOTS = '*';

export interface PruneCacheOptions {
  /** Keep up to this many bytes of build cache (BuildKit's keep-storage / reserved space). */
  readonly keepBytes?: number;
}

export interface PruneCacheResult {
  readonly removed: number;
  readonly reclaimed: number;
  /** Bytes of build cache left (committed snapshots no image uses). */
  readonly kept: number;
}

/** A snapshot of the build cache, with what the ranking needs. */
export interface CacheEntry {
  readonly name: string;
  readonly size: number;
  /** Milliseconds since the epoch; the snapshot's creation when no build recorded a use. */
  readonly lastUsed: number;
  readonly count: number;
}

/** The snapshots the tagged images' layer stacks use (never pruned). */
export async function imageSnapshots(state: State): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const rec of await state.images.listImages()) {
    const image = await state.images.resolveImage(rec.name);
    const ids = chainIds((await readImageConfig(state.content, image)).diffIds);
    const top = ids.length === 0 ? undefined : await snapshotForChain(state, ids[ids.length - 1]!);
    for (let s: SnapshotName | undefined = top; s !== undefined; s = (await state.snapshots.stat(s)).parent) keep.add(s);
  }
  return keep;
}

/** The committed build cache: its snapshots with sizes and use, and the active leftovers. */
export async function buildCacheEntries(state: State): Promise<{ committed: CacheEntry[]; leftovers: { name: string; size: number }[]; parents: Map<string, string> }> {
  const keep = await imageSnapshots(state);
  const committed: CacheEntry[] = [];
  const leftovers: { name: string; size: number }[] = [];
  const parents = new Map<string, string>();
  for await (const s of state.snapshots.walk()) {
    if (s.parent !== undefined) parents.set(s.name, s.parent);
    if (keep.has(s.name)) continue;
    const size = (await state.snapshots.usage(s.name).catch(() => ({ size: 0 }))).size;
    if (s.kind !== 'committed') {
      leftovers.push({ name: s.name, size });
      continue;
    }
    const use = await readSnapshotUse(state.snapshotUseDir, s.name);
    committed.push({ name: s.name, size, lastUsed: use?.lastUsed ?? Date.parse(s.created), count: use?.count ?? 0 });
  }
  return { committed, leftovers, parents };
}

/**
 * The entries in the order BuildKit removes them: each gets a rank by last use (equal times,
 * equal ranks) and one by use count, both scaled to 1, and the smallest sum goes first. Ties:
 * older use first, then name, so the order is the same every time.
 */
export function pruneOrder<T extends Pick<CacheEntry, 'name' | 'lastUsed' | 'count'>>(entries: readonly T[]): T[] {
  // As BuildKit's indices: the "none" value (no use) ranks 1, each distinct value above it
  // one more, from 2; scaled by the highest rank.
  const rank = (values: readonly number[]): { of: Map<number, number>; max: number } => {
    const of = new Map<number, number>([[0, 1]]);
    let max = 1;
    for (const v of [...new Set(values)].sort((a, b) => a - b)) if (v !== 0) of.set(v, ++max);
    return { of, max };
  };
  const byTime = rank(entries.map((e) => e.lastUsed));
  const byCount = rank(entries.map((e) => e.count));
  const score = (e: T) => byTime.of.get(e.lastUsed)! / byTime.max + byCount.of.get(e.count)! / byCount.max;
  return [...entries].sort((a, b) => score(a) - score(b) || a.lastUsed - b.lastUsed || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function pruneBuildCache(state: State, opts: PruneCacheOptions = {}): Promise<PruneCacheResult> {
  const { committed, leftovers, parents } = await buildCacheEntries(state);
  let removed = 0;
  let reclaimed = 0;
  const gone = new Set<string>();
  const remove = async (name: string, size: number): Promise<'removed' | 'has-children'> => {
    try {
      await state.snapshots.remove(name as SnapshotName);
    } catch (e) {
      if (isSnapshotError(e, 'HAS_CHILDREN')) return 'has-children';
      if (!isSnapshotError(e, 'NOT_FOUND')) throw e;
      gone.add(name);
      return 'removed';
    }
    gone.add(name);
    forgetSnapshotUse(state.snapshotUseDir, name);
    removed++;
    reclaimed += size;
    return 'removed';
  };
  // Leftovers of killed builds are of no use to any build: they always go.
  await removeAll(leftovers, remove);
  if (opts.keepBytes === undefined) {
    await removeAll(committed, remove);
    return { removed, reclaimed, kept: 0 };
  }
  // Only snapshots nothing builds on can go: a parent goes once its children have.
  const children = new Map<string, number>();
  for (const [child, parent] of parents) if (!gone.has(child)) children.set(parent, (children.get(parent) ?? 0) + 1);
  let remaining = [...committed];
  let total = remaining.reduce((sum, e) => sum + e.size, 0);
  while (total > opts.keepBytes) {
    const leaves = remaining.filter((e) => (children.get(e.name) ?? 0) === 0);
    const next = pruneOrder(leaves)[0];
    if (next === undefined) break;
    remaining = remaining.filter((e) => e !== next);
    if ((await remove(next.name, next.size)) === 'has-children') continue; // a build made a child meanwhile
    total -= next.size;
    const parent = parents.get(next.name);
    if (parent !== undefined) children.set(parent, (children.get(parent) ?? 1) - 1);
  }
  return { removed, reclaimed, kept: total };
}

/** Removes every entry: children before parents, retrying what still has children until nothing moves. */
async function removeAll(entries: readonly { name: string; size: number }[], remove: (name: string, size: number) => Promise<'removed' | 'has-children'>): Promise<void> {
  let pending = [...entries];
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const next: typeof pending = [];
    for (const s of pending) {
      if ((await remove(s.name, s.size)) === 'has-children') next.push(s);
      else progress = true;
    }
    pending = next;
  }
}
