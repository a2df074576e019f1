/**
 * The build cache's index (cache key → snapshot, the solver's CacheStore) and the use of its
 * snapshots by builds (for least-recently-used pruning), as records in the state directory.
 */
import { isSnapshotError, type SnapshotName, type Snapshotter } from '../snapshotter/index.js';
import type { CacheStore, Digest } from '../solver/core/index.js';
import { readRecord, removeRecord, snapshotExists, writeRecord, type Ref } from '../solver/ops/index.js';

/**
 * The cache index: a cache key's result is a committed snapshot (or the empty root). `used`,
 * when given, collects the snapshots the build took from the index or put there (their use
 * is recorded once the build ends, for least-recently-used pruning).
 */
export class CacheIndex implements CacheStore<Ref> {
  constructor(
    private readonly dir: string,
    private readonly snapshots: Snapshotter,
    private readonly used?: Set<SnapshotName>,
  ) {}

  async get(key: Digest): Promise<Ref | undefined> {
    const rec = await readRecord<{ snapshot: string | null }>(this.dir, key);
    if (rec === undefined) return undefined;
    if (rec.snapshot === null) return { snapshot: null };
    const name = rec.snapshot as SnapshotName;
    if (!(await snapshotExists(this.snapshots, name))) return undefined;
    this.used?.add(name);
    return { snapshot: name };
  }

  async put(key: Digest, result: Ref): Promise<void> {
    // A lazy hit is recorded once it is unpacked (cache-import.ts withImports). An image
    // resolved in its registry is not recorded: the next build resolves it again, and its
    // unpacked layers are found by their chain ids.
    if ('lazy' in result) return;
    if (result.snapshot !== null) this.used?.add(result.snapshot);
    await writeRecord(this.dir, key, { snapshot: result.snapshot });
  }
}

/** How often, and when last, builds used a snapshot of the build cache. */
export interface SnapshotUse {
  /** Milliseconds since the epoch. */
  readonly lastUsed: number;
  readonly count: number;
}

/**
 * Records that a build used these snapshots now, and the layers under them (an overlay of a
 * snapshot reads its parents). One write per snapshot per build; concurrent builds may lose
 * one another's count, never the time of a use.
 */
export async function recordSnapshotUse(dir: string, snapshots: Snapshotter, used: Iterable<SnapshotName>, now = Date.now()): Promise<void> {
  const all = new Set<SnapshotName>();
  for (const top of used) {
    for (let s: SnapshotName | undefined = top; s !== undefined && !all.has(s); ) {
      all.add(s);
      try {
        s = (await snapshots.stat(s)).parent;
      } catch (e) {
        if (isSnapshotError(e, 'NOT_FOUND')) break;
        throw e;
      }
    }
  }
  for (const name of all) {
    const old = await readRecord<SnapshotUse>(dir, name);
    await writeRecord(dir, name, { lastUsed: Math.max(now, old?.lastUsed ?? 0), count: (old?.count ?? 0) + 1 } satisfies SnapshotUse);
  }
}

/** The recorded use of a snapshot; undefined when no build recorded one. */
export async function readSnapshotUse(dir: string, name: string): Promise<SnapshotUse | undefined> {
  return readRecord<SnapshotUse>(dir, name);
}

/** Forgets the use of a removed snapshot. */
export function forgetSnapshotUse(dir: string, name: string): void {
  removeRecord(dir, name);
}
