/**
 * The snapshotter's data: keys, names, mounts and snapshot info. All plain, JSON-able values.
 * Like containerd's: an active snapshot is addressed by a key, a committed one by a name; both
 * share one namespace. prepare/view return mounts as data; the caller (the runner) mounts them.
 */
import { SnapshotError } from './errors.js';

declare const brand: unique symbol;
/** The key of an active (writable) or view (read-only) snapshot. */
export type ActiveKey = string & { readonly [brand]: 'ActiveKey' };
/** The name of a committed, immutable snapshot. */
export type SnapshotName = string & { readonly [brand]: 'SnapshotName' };

const MAX_KEY_LENGTH = 1024;

function checkKey(what: string, s: string): void {
  if (s.length === 0 || s.length > MAX_KEY_LENGTH || s.includes('\0')) {
    throw new SnapshotError('INVALID_ARGUMENT', `invalid snapshot ${what} ${JSON.stringify(s.slice(0, 80))}`);
  }
}

export function asActiveKey(s: string): ActiveKey {
  checkKey('key', s);
  return s as ActiveKey;
}

export function asSnapshotName(s: string): SnapshotName {
  checkKey('name', s);
  return s as SnapshotName;
}

/** A mount as data: what mount(8) would take, minus the target. */
export type Mount = Readonly<{ type: string; source: string; options: readonly string[] }>;

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  /** The key (active, view) or name (committed). */
  readonly name: ActiveKey | SnapshotName;
  readonly kind: SnapshotKind;
  readonly parent?: SnapshotName;
  /** ISO 8601; for a committed snapshot, when it was committed. */
  readonly created: string;
}

export interface Usage {
  /** Bytes allocated on disk (st_blocks × 512), each hard-linked inode counted once. */
  readonly size: number;
  readonly inodes: number;
}

/**
 * The snapshotter as every caller may see it: containerd's surface. Snapshots are addressed by
 * key or name and handed out as mounts (data); a caller mounts them and never learns where or
 * how they are stored. `walk` is here because prune and `du` list every snapshot; there is no
 * `update` or `cleanup`, which nothing here would use.
 */
export interface Snapshotter {
  /** A new writable snapshot on top of `parent`; mounts it as data (overlay, or a bind without parent). */
  prepare(key: ActiveKey, parent?: SnapshotName): Promise<readonly Mount[]>;
  /** A new read-only snapshot of `parent`: read-only mounts (a bind for one layer, else overlay). */
  view(key: ActiveKey, parent: SnapshotName): Promise<readonly Mount[]>;
  /** The mounts of an existing active or view snapshot. */
  mounts(key: ActiveKey): Promise<readonly Mount[]>;
  /** Turns an active key into an immutable committed name; the key is gone afterwards. */
  commit(name: SnapshotName, key: ActiveKey): Promise<void>;
  /** Deletes a snapshot; refuses (HAS_CHILDREN) while others name it as parent. */
  remove(keyOrName: ActiveKey | SnapshotName): Promise<void>;
  stat(keyOrName: ActiveKey | SnapshotName): Promise<SnapshotInfo>;
  /** Every snapshot: active, view and committed. */
  walk(): AsyncIterable<SnapshotInfo>;
  usage(keyOrName: ActiveKey | SnapshotName): Promise<Usage>;
}

/**
 * What a snapshotter whose snapshots are plain directories in overlayfs' format (the overlay
 * one) offers beside Snapshotter. Kept out of Snapshotter: running or changing a snapshot
 * needs only its mounts (writableOverlay() reads an active snapshot's directories back from
 * them), and a caller that reads directories ties itself to this layout. Two callers need it,
 * for speed: the layer diff reads a committed snapshot's own directory (upperDir) instead of
 * mounting it beside its parent and comparing the two, and an image's layers are unpacked side
 * by side into staging directories before their parents exist (stagingDir, adopt). lowerDirs
 * and workDir say what the mounts name, for tests and inspection; the builder reads them from
 * the mounts.
 */
export interface SnapshotDirectories {
  /** The layer directory: an active snapshot's writable upper dir, or a committed snapshot's layer. */
  upperDir(keyOrName: ActiveKey | SnapshotName): Promise<string>;
  /** A new empty directory on the snapshots' filesystem, to fill elsewhere (a layer unpacked beside others) and then `adopt`. */
  stagingDir(): Promise<string>;
  /** Makes `dir`, from stagingDir() and filled, the content of the empty active snapshot `key`. */
  adopt(key: ActiveKey, dir: string): Promise<void>;
  /** The directories of a committed snapshot and its ancestors, topmost first (overlay lowerdir order), as mounts name them. */
  lowerDirs(name: SnapshotName): Promise<readonly string[]>;
  /** The overlay work directory of an active snapshot (same filesystem as its upper dir), as mounts name it. */
  workDir(key: ActiveKey): Promise<string>;
}
