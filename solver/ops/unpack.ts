/**
 * An image's layers made into a chain of snapshots. Layers not unpacked yet are unpacked
 * side by side, each into a staging directory of the snapshotter (a layer needs no other to
 * be applied); the chain is then put together bottom up, each staged layer adopted by a
 * snapshot whose parent is the one below. Layers already unpacked are reused.
 */
import { availableParallelism } from 'node:os';
import { rm } from 'node:fs/promises';
import PQueue from 'p-queue';
import { applyTar, type SnapshotName } from '../../snapshotter/index.js';
import type { ImageLayer } from './deps.js';
import { chainIds, registerLayers, rememberLayerFacts, snapshotForChain, type LayerStore } from './layers.js';
import { newActiveKey, newSnapshotName } from './mounted.js';

/** The top snapshot of the image's chain (null for an image without layers). */
export async function unpackImage(
  state: LayerStore,
  layers: readonly ImageLayer[],
  status: (message: string, done: number, total: number) => void,
): Promise<SnapshotName | null> {
  const diffIds = layers.map((l) => l.diffId);
  const ids = chainIds(diffIds);
  const known = await Promise.all(ids.map((id) => snapshotForChain(state, id)));
  if (known.every((k) => k !== undefined)) return known.at(-1) ?? null;

  // Every blob not here starts downloading now, 6 at once as a pull does; an open waits for
  // its own (and fails with it).
  const downloads = new PQueue({ concurrency: 6 });
  for (const [i, layer] of layers.entries()) if (known[i] === undefined && layer.fetch !== undefined) void downloads.add(() => layer.fetch!()).catch(() => {});
  // Decompression runs on libuv's threads and writes wait on the disk: a few at once pay off.
  const queue = new PQueue({ concurrency: Math.min(4, Math.max(2, availableParallelism())) });
  const missing = known.filter((k) => k === undefined).length;
  let unpacked = 0;
  let failed = false;
  const staged = ids.map((_, i) => {
    if (known[i] !== undefined) return undefined;
    const layer = layers[i]!;
    return queue.add(async () => {
      if (failed) return undefined;
      const dir = await state.snapshots.stagingDir();
      let size: number;
      try {
        ({ size } = await applyTar(await layer.open(), dir));
        // A layer read as it downloaded counts only once its blob has checked out.
        await layer.fetch?.();
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        // Bytes that fail their digest may well break the archive first: the download's own
        // failure, where there is one, says what went wrong.
        const download = await layer.fetch?.().then(() => undefined, (failure: unknown) => ({ failure }));
        throw download === undefined ? e : download.failure;
      }
      status(`unpacked layer ${i + 1}/${ids.length}`, ++unpacked, missing);
      return { dir, size };
    });
  });

  // The image's snapshots, bottom first, as they are found or made.
  const chain: SnapshotName[] = [];
  try {
    for (const [i, already] of known.entries()) {
      if (already !== undefined) {
        chain.push(already);
        continue;
      }
      const { dir, size } = (await staged[i])!;
      const key = newActiveKey();
      await state.snapshots.prepare(key, chain.at(-1));
      try {
        await state.snapshots.adopt(key, dir);
        await layers[i]!.unpacked();
        // The facts first: a crash right after the commit must not leave a snapshot whose
        // diff id would be made up from its files.
        const name = newSnapshotName();
        await rememberLayerFacts(state, name, diffIds[i]!, size, layers[i]!.created);
        await state.snapshots.commit(name, key);
        chain.push(name);
      } catch (e) {
        await state.snapshots.remove(key).catch(() => {});
        throw e;
      }
    }
  } catch (e) {
    failed = true; // layers not started yet are not needed any more
    throw e;
  } finally {
    // On failure, staged layers not adopted are thrown away (adopted ones are gone from staging).
    const left = await Promise.allSettled(staged.map((p) => p ?? Promise.resolve(undefined)));
    for (const r of left) if (r.status === 'fulfilled' && r.value !== undefined) await rm(r.value.dir, { recursive: true, force: true });
  }
  // Remember every prefix of the stack we now hold, so the next build reuses them.
  await registerLayers(state, chain.map((snapshot, i) => ({ snapshot, diffId: diffIds[i]!, size: 0 })));
  return chain.at(-1) ?? null;
}
