/**
 * Snapshots as image layers: the chain under a snapshot, each layer's diff id (computed once
 * by streaming the layer's tar through sha256, remembered beside the snapshot), chain ids,
 * and the index that lets `FROM an-image-built-here` reuse the snapshots it was built from.
 */
import { createHash } from 'node:crypto';
import type { Digest } from '../../oci/index.js';
import { diffDigest, diffTar, type SnapshotName } from '../../snapshotter/index.js';
import type { OpStore } from './deps.js';

/** Where layer facts are kept. */
export type LayerStore = Pick<OpStore, 'snapshots' | 'layersDir' | 'layerMetaDir'>;
import { readRecord, snapshotExists, writeRecord } from './records.js';
import type { Readable } from 'node:stream';

export interface Layer {
  readonly snapshot: SnapshotName;
  readonly diffId: Digest;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  /**
   * When the layer was made (ISO 8601), for a layer unpacked from a build cache: the time the
   * step that made it committed it, so that an image rebuilt from an imported cache is the
   * same image. Absent: the snapshot's own commit time (see layerCreated).
   */
  readonly created?: string;
}

/** The snapshots under `top`, bottom first (top included). */
export async function snapshotChain(state: LayerStore, top: SnapshotName | null): Promise<SnapshotName[]> {
  const chain: SnapshotName[] = [];
  for (let name: SnapshotName | undefined = top ?? undefined; name !== undefined; ) {
    chain.push(name);
    name = (await state.snapshots.stat(name)).parent;
  }
  return chain.reverse();
}

/** A snapshot's layer tar, as every output and digest sees it. */
export async function openSnapshotTar(state: LayerStore, name: SnapshotName, sourceDateEpoch?: number): Promise<Readable> {
  const upper = await state.snapshots.upperDir(name);
  return diffTar(upper, sourceDateEpoch === undefined ? {} : { sourceDateEpoch });
}

/** Layer facts being computed, per state directory: a second ask waits for the first. */
const computing = new WeakMap<LayerStore, Map<string, Promise<Layer>>>();

/** The layer facts of a committed snapshot, computed once. */
export function layerOf(state: LayerStore, name: SnapshotName, sourceDateEpoch?: number): Promise<Layer> {
  const memoKey = sourceDateEpoch === undefined ? name : `${name}@${sourceDateEpoch}`;
  let pending = computing.get(state);
  if (pending === undefined) computing.set(state, (pending = new Map()));
  let layer = pending.get(memoKey);
  if (layer === undefined) {
    const forget = pending;
    layer = computeLayer(state, name, memoKey, sourceDateEpoch);
    pending.set(memoKey, layer);
    // A failure is not remembered: the next ask tries again (and reports it).
    layer.catch(() => forget.delete(memoKey));
  }
  return layer;
}

async function computeLayer(state: LayerStore, name: SnapshotName, memoKey: string, sourceDateEpoch: number | undefined): Promise<Layer> {
  const known = await readRecord<{ diffId: Digest; size: number; created?: string }>(state.layerMetaDir, memoKey);
  if (known !== undefined) return { snapshot: name, diffId: known.diffId, size: known.size, ...(typeof known.created === 'string' ? { created: known.created } : {}) };
  const upper = await state.snapshots.upperDir(name);
  const digest = await diffDigest(upper, sourceDateEpoch === undefined ? {} : { sourceDateEpoch });
  const diffId = digest.diffId;
  const size = digest.size;
  await writeRecord(state.layerMetaDir, memoKey, { diffId, size });
  return { snapshot: name, diffId, size };
}

/**
 * Record the layer facts of a snapshot made by unpacking a layer: its diff id is the image's,
 * not the digest of the tar tsbuild would write for the same files (other tools order and
 * encode entries differently), so outputs list the base's layers as they are.
 */
export async function rememberLayerFacts(state: LayerStore, name: SnapshotName, diffId: Digest, size: number, created?: string): Promise<void> {
  await writeRecord(state.layerMetaDir, name, { diffId, size, ...(created === undefined ? {} : { created }) });
}

/** When a layer was made (ISO 8601): as its cache recorded it, else its snapshot's commit. */
export async function layerCreated(state: LayerStore, layer: Layer): Promise<string> {
  return layer.created ?? (await state.snapshots.stat(layer.snapshot)).created;
}

export async function layersOf(state: LayerStore, top: SnapshotName | null, sourceDateEpoch?: number): Promise<Layer[]> {
  const chain = await snapshotChain(state, top);
  return Promise.all(chain.map((s) => layerOf(state, s, sourceDateEpoch)));
}

/** OCI chain ids: the identity of a stack of layers. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** Remember which snapshot holds each prefix of a layer stack. */
export async function registerLayers(state: LayerStore, layers: readonly Layer[]): Promise<void> {
  const ids = chainIds(layers.map((l) => l.diffId));
  await Promise.all(
    ids.map(async (id, i) => {
      const snapshot = layers[i]!.snapshot;
      // Most builds register layers that are registered already.
      if ((await readRecord<{ snapshot: SnapshotName }>(state.layersDir, id))?.snapshot !== snapshot) {
        await writeRecord(state.layersDir, id, { snapshot });
      }
    }),
  );
}

/** The snapshot holding a layer stack, if one is known and still there. */
export async function snapshotForChain(state: LayerStore, chainId: string): Promise<SnapshotName | undefined> {
  const rec = await readRecord<{ snapshot: SnapshotName }>(state.layersDir, chainId);
  if (rec === undefined) return undefined;
  return (await snapshotExists(state.snapshots, rec.snapshot)) ? rec.snapshot : undefined;
}
