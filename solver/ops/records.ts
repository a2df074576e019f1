/**
 * Small JSON records keyed by digest: the cache index (cache key → snapshot, build/), the layer
 * index (chain id → snapshot), per-snapshot layer facts and the ops' memos. One file per record, written
 * atomically, so concurrent builds never corrupt each other and a crash loses at most a
 * record that was not yet written (the step then runs again).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomicSync } from '../../content/index.js';
import { isSnapshotError, type SnapshotName, type Snapshotter } from '../../snapshotter/index.js';

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
export async function snapshotExists(snapshots: Snapshotter, name: SnapshotName): Promise<boolean> {
  try {
    return (await snapshots.stat(name)).kind === 'committed';
  } catch (e) {
    if (isSnapshotError(e, 'NOT_FOUND')) return false;
    throw e;
  }
}

/** Removes a record (gone already is fine). */
export function removeRecord(dir: string, key: string): void {
  rmSync(fileFor(dir, key), { force: true });
}
