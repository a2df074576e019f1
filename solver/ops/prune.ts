/**
 * Build-cache garbage collection: every snapshot that no tagged image's layer stack uses is
 * removed, leftovers of killed builds (active snapshots) included. The caller makes sure no
 * build is running (builds hold a lease while they run).
 */
import { readImageConfig } from '../../exporter/index.js';
import { isSnapshotError, type SnapshotName } from '../../snapshotter/index.js';
import { chainIds, snapshotForChain } from './layers.js';
import type { State } from './state.js';

/** What a running build's lease names: every snapshot is in use. */
export const ALL_SNAPSHOTS = '*';

export async function pruneBuildCache(state: State): Promise<{ removed: number; reclaimed: number }> {
  const keep = new Set<string>();
  for (const rec of await state.images.listImages()) {
    const image = await state.images.resolveImage(rec.name);
    const ids = chainIds((await readImageConfig(state.content, image)).diffIds);
    const top = ids.length === 0 ? undefined : await snapshotForChain(state, ids[ids.length - 1]!);
    for (let s: SnapshotName | undefined = top; s !== undefined; s = (await state.snapshots.stat(s)).parent) keep.add(s);
  }
  let pending: { name: string; size: number }[] = [];
  for await (const s of state.snapshots.walk()) {
    if (keep.has(s.name)) continue;
    pending.push({ name: s.name, size: (await state.snapshots.usage(s.name).catch(() => ({ size: 0 }))).size });
  }
  let removed = 0;
  let reclaimed = 0;
  // Children before parents: retry what still has children until nothing moves.
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const next: typeof pending = [];
    for (const s of pending) {
      try {
        await state.snapshots.remove(s.name as SnapshotName);
        removed++;
        reclaimed += s.size;
        progress = true;
      } catch (e) {
        if (isSnapshotError(e, 'HAS_CHILDREN')) next.push(s);
        else if (!isSnapshotError(e, 'NOT_FOUND')) throw e;
      }
    }
    pending = next;
  }
  return { removed, reclaimed };
}
