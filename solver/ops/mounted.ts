/**
 * Working on a snapshot through a mounted view. The builder runs in its own private mount
 * namespace (see cli/mount-namespace.ts), so these mounts die with it whatever happens.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  asActiveKey,
  asSnapshotName,
  mountAt,
  unmount,
  type ActiveKey,
  type SnapshotName,
} from '../../snapshotter/index.js';
import type { State } from './state.js';

export const newActiveKey = (): ActiveKey => asActiveKey(`active-${randomUUID()}`);
export const newSnapshotName = (): SnapshotName => asSnapshotName(`layer-${randomUUID()}`);

async function mountPoint(state: State): Promise<string> {
  const dir = join(state.tmpDir, `mnt-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Prepare a new snapshot on `parent`, mount it writable, let `fn` change it, and commit it.
 * On any failure the active snapshot is removed and nothing is committed.
 */
export async function changeSnapshot(
  state: State,
  parent: SnapshotName | null,
  fn: (root: string) => Promise<void>,
): Promise<SnapshotName> {
  const key = newActiveKey();
  const mounts = await state.snapshots.prepare(key, parent ?? undefined);
  const dir = await mountPoint(state);
  try {
    mountAt(mounts, dir);
    try {
      await fn(dir);
    } finally {
      unmount(dir);
    }
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
export async function withView<T>(state: State, snapshot: SnapshotName | null, fn: (root: string) => Promise<T>): Promise<T> {
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
