import type { Descriptor, Digest } from '../../oci/index.js';
import type { SnapshotName } from '../../snapshotter/index.js';

/** A result as files: a committed snapshot (its layer chain), or nothing (scratch). */
export interface SnapshotRef {
  readonly snapshot: SnapshotName | null;
}

/** One layer of a lazy chain: its blob where the chain's source holds it, not read yet. */
export interface LazyLayer {
  /** The compressed blob (not necessarily in the content store yet). */
  readonly blob: Descriptor;
  readonly diffId: Digest;
  /** When its step made it (ISO 8601). */
  readonly created: string;
}

/**
 * A result known by its layer blobs only (a hit of an imported cache): nothing is read until
 * something needs its files (`unpack`) or one of its blobs (`fetch`).
 */
export interface LazyChain {
  /** Bottom first; never empty (an empty chain is the empty root, `{ snapshot: null }`). */
  readonly layers: readonly LazyLayer[];
  /** Copies a layer's blob into the content store, verified, unless it is there already. */
  fetch(layer: LazyLayer): Promise<void>;
  /** The chain unpacked into snapshots (blobs fetched as needed); done once, the top snapshot. */
  unpack(): Promise<SnapshotName>;
}

export interface LazyRef {
  readonly lazy: LazyChain;
}

/**
 * What a vertex produces. A lazy result has no `snapshot` until `materialize` makes one: every
 * reader of files goes through `materialize`, which the type makes it unable to skip.
 */
export type Ref = SnapshotRef | LazyRef;

/** The result as files: a lazy one is unpacked now (once), a snapshot is as it is. */
export async function materialize(ref: Ref): Promise<SnapshotRef> {
  return 'lazy' in ref ? { snapshot: await ref.lazy.unpack() } : ref;
}
