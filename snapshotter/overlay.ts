/**
 * The overlay snapshotter: containerd's model on plain directories.
 *
 * Layout under the root (the state directory's snapshots/):
 *   <id>/info.json   the record (kind, key or name, parent, created)
 *   <id>/fs/         the snapshot's own content: the layer, and an overlay upper dir while active
 *   <id>/work/       overlay's work dir (same filesystem as fs/, as overlay requires)
 *   .tmp/            staging for new snapshots and trash for removed ones
 * where <id> is the first 128 bits of sha256(key or name), hex: short, so deep lowerdir chains
 * fit the mount option limit, and derived from the name, so that renaming the directory is
 * the atomic, exclusive step of prepare (staging → <id>) and commit (<id of key> → <id of name>).
 * No second index can disagree with the directories. Keys and names share one namespace.
 *
 * Commit writes the key's record once more, saying `committing: name` (and the commit time),
 * then renames the directory: the rename is the commit, and from then on every reader takes
 * that record in <id of name> for the committed one. A crash before the rename leaves the key
 * active; after it, the snapshot is committed. Leftovers in .tmp/ older
 * than an hour are deleted on open. A prepare racing a remove of its parent is caught by
 * re-checking on both sides; protecting snapshots in use is the job of leases, not this class.
 */
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SnapshotError } from './errors.js';
import { bindMount, checkMountablePath, overlayMount, readonlyOverlayMount } from './mount-options.js';
import { isErrnoCode, readRecord, RECORD_FILE, writeNewRecord, writeRecord, type SnapshotRecord } from './records.js';
import type {
  ActiveKey,
  Mount,
  SnapshotInfo,
  SnapshotKind,
  SnapshotName,
  SnapshotDirectories,
  Snapshotter,
  Usage,
} from './types.js';
import { diskUsage } from './usage.js';

const STAGING = '.tmp';
/** In a snapshot's directory: its own content (the layer), and overlay's work dir beside it. */
const FS_DIR = 'fs';
const WORK_DIR = 'work';
const STALE_STAGING_MS = 60 * 60 * 1000;
const MAX_DEPTH = 4096;

export function snapshotId(keyOrName: string): string {
  return createHash('sha256').update(keyOrName).digest('hex').slice(0, 32);
}

/**
 * Opens (creating if needed) an overlay snapshotter rooted at `root`: a Snapshotter, and the
 * directory access only this kind of snapshotter has (SnapshotDirectories).
 */
export async function openOverlaySnapshotter(root: string): Promise<Snapshotter & SnapshotDirectories> {
  const dir = resolve(root);
  checkMountablePath(dir);
  // Synchronous: every command opens the snapshotter, and these calls take microseconds.
  mkdirSync(join(dir, STAGING), { recursive: true, mode: 0o700 });
  await removeStaleStaging(join(dir, STAGING));
  return new OverlaySnapshotter(dir);
}

async function removeStaleStaging(staging: string): Promise<void> {
  const now = Date.now();
  for (const entry of readdirSync(staging)) {
    const path = join(staging, entry);
    try {
      const st = statSync(path);
      if (now - st.mtimeMs > STALE_STAGING_MS) await rm(path, { recursive: true, force: true });
    } catch (e) {
      if (!isErrnoCode(e, 'ENOENT')) throw e; // another process cleaned it first
    }
  }
}

function isExistsError(e: unknown): boolean {
  return isErrnoCode(e, 'EEXIST') || isErrnoCode(e, 'ENOTEMPTY');
}

export class OverlaySnapshotter implements Snapshotter, SnapshotDirectories {
  /**
   * Records this instance wrote or read, by key or name: what its own next steps need (a
   * chain's parents, an active key's directories) without reading them again. A committed
   * record never changes; an active one changes only through this instance (keys are its
   * own), and a running build's lease keeps prune from removing any of them. walk(), the
   * checks against concurrent removal, and stat() of anything but a committed record it
   * already knows still read the disk.
   */
  private readonly known = new Map<string, SnapshotRecord>();

  constructor(readonly root: string) {}

  private dirOf(keyOrName: string): string {
    return join(this.root, snapshotId(keyOrName));
  }

  private fsDir(keyOrName: string): string {
    return join(this.dirOf(keyOrName), FS_DIR);
  }

  private stagingPath(): string {
    return join(this.root, STAGING, randomBytes(12).toString('hex'));
  }

  /** The record of `keyOrName` on disk, as committed when a commit renamed it there; undefined when absent. */
  private async find(keyOrName: string): Promise<SnapshotRecord | undefined> {
    const dir = this.dirOf(keyOrName);
    const stored = await readRecord(dir);
    const record = stored === undefined ? undefined : recordFor(stored, keyOrName, dir);
    if (record === undefined) this.known.delete(keyOrName);
    else this.known.set(keyOrName, record);
    return record;
  }

  private async get(keyOrName: string, ...kinds: SnapshotKind[]): Promise<SnapshotRecord> {
    const record = this.known.get(keyOrName) ?? (await this.find(keyOrName));
    if (record === undefined) throw new SnapshotError('NOT_FOUND', `snapshot ${JSON.stringify(keyOrName)} does not exist`);
    if (kinds.length > 0 && !kinds.includes(record.kind)) {
      throw new SnapshotError('WRONG_KIND', `snapshot ${JSON.stringify(keyOrName)} is ${record.kind}, not ${kinds.join(' or ')}`);
    }
    return record;
  }

  async prepare(key: ActiveKey, parent?: SnapshotName): Promise<readonly Mount[]> {
    await this.create('active', key, parent);
    return this.mounts(key);
  }

  async view(key: ActiveKey, parent: SnapshotName): Promise<readonly Mount[]> {
    await this.create('view', key, parent);
    return this.mounts(key);
  }

  private async create(kind: 'active' | 'view', key: string, parent: string | undefined): Promise<void> {
    if (parent !== undefined) await this.get(parent, 'committed');
    // Synchronous, as the records: a few microseconds a call, at every step.
    const staging = this.stagingPath();
    mkdirSync(staging, { mode: 0o700 });
    try {
      mkdirSync(join(staging, FS_DIR), { mode: 0o755 });
      mkdirSync(join(staging, WORK_DIR), { mode: 0o700 });
      const record: SnapshotRecord = {
        version: 1,
        kind,
        name: key,
        ...(parent !== undefined ? { parent } : {}),
        created: new Date().toISOString(),
      };
      // Staging is nobody else's: the record needs no temp name, the rename below publishes it.
      writeNewRecord(staging, record);
      renameSync(staging, this.dirOf(key));
      this.known.set(key, record);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      if (isExistsError(e)) throw new SnapshotError('ALREADY_EXISTS', `snapshot ${JSON.stringify(key)} already exists`);
      throw e;
    }
    // A concurrent remove of the parent may have passed its children check before our rename:
    // it renames the parent's directory away, so its record is gone.
    if (parent !== undefined && !recordExists(this.dirOf(parent))) {
      await this.discard(key);
      throw new SnapshotError('NOT_FOUND', `parent snapshot ${JSON.stringify(parent)} was removed`);
    }
  }

  async mounts(key: ActiveKey): Promise<readonly Mount[]> {
    const record = await this.get(key, 'active', 'view');
    const lowers = record.parent === undefined ? [] : await this.lowerDirs(record.parent as SnapshotName);
    const dir = this.dirOf(key);
    if (record.kind === 'active') {
      return lowers.length === 0
        ? [bindMount(join(dir, FS_DIR), false)]
        : [overlayMount(lowers, join(dir, FS_DIR), join(dir, WORK_DIR))];
    }
    if (lowers.length === 0) return [bindMount(join(dir, FS_DIR), true)];
    if (lowers.length === 1) return [bindMount(lowers[0]!, true)];
    return [readonlyOverlayMount(lowers)];
  }

  async stagingDir(): Promise<string> {
    const dir = this.stagingPath();
    await mkdir(dir, { mode: 0o755 });
    return dir;
  }

  async adopt(key: ActiveKey, dir: string): Promise<void> {
    await this.get(key, 'active');
    if (dirname(dir) !== join(this.root, STAGING)) {
      throw new SnapshotError('INVALID_ARGUMENT', `${dir} was not made by stagingDir()`);
    }
    const fs = this.fsDir(key);
    if ((await readdir(fs)).length > 0) throw new SnapshotError('INVALID_ARGUMENT', `snapshot ${JSON.stringify(key)} is not empty`);
    await rmdir(fs);
    await rename(dir, fs);
  }

  async commit(name: SnapshotName, key: ActiveKey): Promise<void> {
    const record = await this.get(key, 'active');
    const from = this.dirOf(key);
    const to = this.dirOf(name);
    // Say where this directory is going before it goes: in <id of name>, this is the record.
    const intent: SnapshotRecord = { ...record, created: new Date().toISOString(), committing: name };
    writeRecord(from, intent);
    try {
      renameSync(from, to);
    } catch (e) {
      writeRecord(from, record); // withdraw the intent; the key stays active
      if (isExistsError(e)) throw new SnapshotError('ALREADY_EXISTS', `snapshot ${JSON.stringify(name)} already exists`);
      throw e;
    }
    this.known.delete(key);
    this.known.set(name, recordFor(intent, name, to));
  }

  async remove(keyOrName: ActiveKey | SnapshotName): Promise<void> {
    this.known.delete(keyOrName);
    const record = await this.get(keyOrName);
    await this.refuseChildren(record);
    const dir = this.dirOf(keyOrName);
    const trash = this.stagingPath();
    await rename(dir, trash);
    this.known.delete(keyOrName);
    // A prepare may have found this parent just before the rename; it re-checks, and so do we.
    try {
      await this.refuseChildren(record);
    } catch (e) {
      try {
        await rename(trash, dir);
      } catch (restoreError) {
        throw new SnapshotError('CORRUPT', `removing ${JSON.stringify(keyOrName)} raced with a new child and could not be undone (left in ${trash})`, { cause: restoreError });
      }
      throw e;
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Removes a snapshot this process just created, without the children checks. */
  private async discard(key: string): Promise<void> {
    this.known.delete(key);
    const trash = this.stagingPath();
    await rename(this.dirOf(key), trash);
    await rm(trash, { recursive: true, force: true });
  }

  private async refuseChildren(record: SnapshotRecord): Promise<void> {
    if (record.kind !== 'committed') return; // only committed snapshots can be parents
    const children: string[] = [];
    for await (const info of this.walk()) if (info.parent === record.name) children.push(info.name);
    if (children.length > 0) {
      throw new SnapshotError('HAS_CHILDREN', `snapshot ${JSON.stringify(record.name)} still has children: ${children.slice(0, 5).map((c) => JSON.stringify(c)).join(', ')}${children.length > 5 ? ', …' : ''}`);
    }
  }

  async stat(keyOrName: ActiveKey | SnapshotName): Promise<SnapshotInfo> {
    const known = this.known.get(keyOrName);
    if (known?.kind === 'committed') return toInfo(known); // immutable; the lease keeps it
    const record = await this.find(keyOrName);
    if (record === undefined) throw new SnapshotError('NOT_FOUND', `snapshot ${JSON.stringify(keyOrName)} does not exist`);
    return toInfo(record);
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    const entries = (await readdir(this.root)).filter((e) => e !== STAGING).sort();
    for (const id of entries) {
      const record = await readRecord(join(this.root, id));
      if (record === undefined) continue; // removed meanwhile
      if (snapshotId(record.name) === id) {
        yield toInfo(record);
      } else if (record.committing !== undefined && snapshotId(record.committing) === id) {
        yield toInfo(recordFor(record, record.committing, join(this.root, id)));
      }
      // Anything else is not a snapshot of ours; find() reports it when asked by name.
    }
  }

  async usage(keyOrName: ActiveKey | SnapshotName): Promise<Usage> {
    await this.get(keyOrName);
    return diskUsage(this.fsDir(keyOrName));
  }

  async lowerDirs(name: SnapshotName): Promise<readonly string[]> {
    const dirs: string[] = [];
    let next: string | undefined = name;
    while (next !== undefined) {
      const record = await this.get(next, 'committed');
      dirs.push(this.fsDir(next));
      if (dirs.length > MAX_DEPTH) throw new SnapshotError('CORRUPT', `snapshot chain of ${JSON.stringify(name)} is deeper than ${MAX_DEPTH}`);
      next = record.parent;
    }
    return dirs;
  }

  /** The layer directory: writable for an active key, the committed layer for a name. */
  async upperDir(keyOrName: ActiveKey | SnapshotName): Promise<string> {
    await this.get(keyOrName, 'active', 'committed');
    return this.fsDir(keyOrName);
  }

  async workDir(key: ActiveKey): Promise<string> {
    await this.get(key, 'active');
    return join(this.dirOf(key), WORK_DIR);
  }
}

/** The directories of a writable overlay: what a runner that mounts overlayfs itself needs. */
export interface OverlayLayers {
  /** Topmost first (overlay lowerdir order); empty for a snapshot without parent. */
  readonly lowers: readonly string[];
  readonly upper: string;
  readonly work: string;
}

/**
 * The directories of an active snapshot, read back from the mounts this snapshotter gave for
 * it (prepare or mounts): an overlay names them in its options. A snapshot without parent is
 * a writable bind of its `fs/` (overlayfs needs a lower dir); its work dir is beside it, as for
 * every active snapshot here, so a runner can still make it an overlay over an empty lower.
 */
export function writableOverlay(mounts: readonly Mount[]): OverlayLayers {
  const [mount, ...rest] = mounts;
  if (mount === undefined || rest.length > 0) {
    throw new SnapshotError('INVALID_ARGUMENT', `expected the one mount of an active snapshot, got ${mounts.length}`);
  }
  if (mount.type === 'bind' && mount.options.includes('rw') && basename(mount.source) === FS_DIR) {
    return { lowers: [], upper: mount.source, work: join(dirname(mount.source), WORK_DIR) };
  }
  if (mount.type === 'overlay') {
    const option = (prefix: string): string | undefined => mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
    const [lowers, upper, work] = [option('lowerdir='), option('upperdir='), option('workdir=')];
    if (lowers !== undefined && upper !== undefined && work !== undefined) return { lowers: lowers.split(':'), upper, work };
  }
  throw new SnapshotError('INVALID_ARGUMENT', `not the writable mount of an overlay snapshot: ${mount.type} ${mount.source} ${mount.options.join(',')}`);
}

/**
 * What the record stored in `keyOrName`'s directory says of it: itself, or when a commit
 * renamed the directory there, the committed snapshot (the record says `committing`).
 * Anything else is a 128-bit hash collision or a directory edited by hand: no guess is made.
 */
function recordFor(stored: SnapshotRecord, keyOrName: string, dir: string): SnapshotRecord {
  if (stored.name === keyOrName) return stored;
  if (stored.kind === 'active' && stored.committing === keyOrName) {
    return {
      version: 1,
      kind: 'committed',
      name: keyOrName,
      ...(stored.parent !== undefined ? { parent: stored.parent } : {}),
      created: stored.created,
    };
  }
  throw new SnapshotError('CORRUPT', `snapshot directory ${dir} holds ${JSON.stringify(stored.name)}, not ${JSON.stringify(keyOrName)}`);
}

function recordExists(dir: string): boolean {
  try {
    accessSync(join(dir, RECORD_FILE));
    return true;
  } catch (e) {
    if (isErrnoCode(e, 'ENOENT') || isErrnoCode(e, 'ENOTDIR')) return false;
    throw e;
  }
}

function toInfo(record: SnapshotRecord): SnapshotInfo {
  const name = record.name as ActiveKey | SnapshotName;
  return record.parent === undefined
    ? { name, kind: record.kind, created: record.created }
    : { name, kind: record.kind, parent: record.parent as SnapshotName, created: record.created };
}
