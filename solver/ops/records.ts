/**
 * Small JSON records keyed by digest: the cache index (cache key → snapshot), the layer index
 * (chain id → snapshot) and per-snapshot layer facts. One file per record, written
 * atomically, so concurrent builds never corrupt each other and a crash loses at most a
 * record that was not yet written (the step then runs again).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomicSync } from '../../content/index.js';
import type { Digest, CacheStore } from '../core/index.js';
import { isSnapshotError, type OverlaySnapshotter, type SnapshotName } from '../../snapshotter/index.js';
import type { Ref } from './ref.js';

const fileFor = (dir: string, key: string) => join(dir, createHash('sha256').update(key).digest('hex') + '.json');

// Records are read and written by synchronous calls: a few dozen bytes each, where the thread
// pool's hand-overs (four for a write and its rename) cost more than the calls themselves.

export async function readRecord<T>(dir: string, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(readFileSync(fileFor(dir, key), 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/**
 * Written to a temp name and renamed: a reader sees the old record or the new one, never a
 * part, whatever happens to the writer. Not fsynced: after a power loss a record may be gone
 * or empty, which reads as "not cached" (and a record whose snapshot is gone is ignored).
 */
export async function writeRecord(dir: string, key: string, value: unknown): Promise<void> {
  writeFileAtomicSync(fileFor(dir, key), JSON.stringify(value), 0o644, false);
}

/** Whether a committed snapshot exists (a record may outlive a pruned snapshot). */
export async function snapshotExists(snapshots: OverlaySnapshotter, name: SnapshotName): Promise<boolean> {
  try {
    return (await snapshots.stat(name)).kind === 'committed';
  } catch (e) {
    if (isSnapshotError(e, 'NOT_FOUND')) return false;
    throw e;
  }
}

/**
 * The cache index: a cache key's result is a committed snapshot (or the empty root). `used`,
 * when given, collects the snapshots the build took from the index or put there (their use
 * is recorded once the build ends, for least-recently-used pruning).
 */
export class CacheIndex implements CacheStore<Ref> {
  constructor(
    private readonly dir: string,
    private readonly snapshots: OverlaySnapshotter,
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
export async function recordSnapshotUse(dir: string, snapshots: OverlaySnapshotter, used: Iterable<SnapshotName>, now = Date.now()): Promise<void> {
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
  rmSync(fileFor(dir, name), { force: true });
}
