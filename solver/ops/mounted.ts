/**
 * Working on a snapshot through a mounted view. The builder runs in its own private mount
 * namespace (see cli/mount-namespace.ts), so these mounts die with it whatever happens.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { asActiveKey, asSnapshotName, writableOverlay, type ActiveKey, type SnapshotName } from '../../snapshotter/index.js';
import { mountAt, unmount } from './mount.js';
import type { OpStore } from './deps.js';

/** What working on snapshots needs of the store. */
type SnapshotWork = Pick<OpStore, 'snapshots' | 'tmpDir'>;

export const newActiveKey = (): ActiveKey => asActiveKey(`active-${randomUUID()}`);
export const newSnapshotName = (): SnapshotName => asSnapshotName(`layer-${randomUUID()}`);

async function mountPoint(state: SnapshotWork): Promise<string> {
  const dir = join(state.tmpDir, `mnt-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Writing straight into a new snapshot's upper dir, below a directory that the step made
 * through the merged view and that was not there before: the merged view of such a
 * directory is its upper dir (nothing below it comes from a lower layer), so what is written
 * there is what writing through the overlay would leave, without overlayfs in the way of
 * every file. overlayfs allows no changes to its layers while mounted, so that work runs once
 * the merged view is unmounted.
 */
export interface UpperWrites {
  /** The new snapshot's upper dir. */
  readonly upperDir: string;
  /** Runs `task` after `fn` returns and the merged view is unmounted, before the commit; in order. */
  defer(task: () => Promise<void>): void;
}

/**
 * Prepare a new snapshot on `parent`, mount it writable, let `fn` change it (and defer work
 * on its upper dir, see UpperWrites), and commit it. On any failure the active snapshot is
 * removed and nothing is committed.
 */
export async function changeSnapshot(
  state: SnapshotWork,
  parent: SnapshotName | null,
  fn: (root: string, upper: UpperWrites) => Promise<void>,
): Promise<SnapshotName> {
  const key = newActiveKey();
  const mounts = await state.snapshots.prepare(key, parent ?? undefined);
  const dir = await mountPoint(state);
  try {
    const deferred: (() => Promise<void>)[] = [];
    const upper: UpperWrites = { upperDir: writableOverlay(mounts).upper, defer: (task) => void deferred.push(task) };
    mountAt(mounts, dir);
    try {
      await fn(dir, upper);
    } finally {
      unmount(dir);
    }
    for (const task of deferred) await task();
    const name = newSnapshotName();
    await state.snapshots.commit(name, key);
    return name;
  } catch (e) {
    await state.snapshots.remove(key).catch(() => {});
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A read-only view of a snapshot's merged content (an empty directory for scratch). */
export async function withView<T>(state: SnapshotWork, snapshot: SnapshotName | null, fn: (root: string) => Promise<T>): Promise<T> {
  const dir = await mountPoint(state);
  if (snapshot === null) {
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const key = newActiveKey();
  const mounts = await state.snapshots.view(key, snapshot);
  try {
    mountAt(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    await state.snapshots.remove(key).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
