/**
 * Applying a layer tar to an empty snapshot directory, safely: nothing is ever created or
 * changed outside the target, whatever the archive says.
 *
 * - Names are split into components; `..` anywhere is refused, leading `/` and `.` dropped.
 * - Parents are walked from the target one component at a time with lstat: a missing one is
 *   created (0755, root), a directory is entered, and anything else, a symlink above all, is
 *   refused: no symlink is ever followed while creating entries. Final components are created
 *   with O_EXCL|O_NOFOLLOW, mkdir, symlink or mknod, none of which follow a link.
 * - Hard links must name an existing non-directory inside the target, reached the same way.
 * - `.wh.NAME` becomes an overlay whiteout (char device 0:0), `.wh..wh..opq` marks its
 *   directory opaque (trusted.overlay.opaque=y); overlay's own xattrs in the archive are dropped.
 * - Ownership, modes (after chown, which clears setuid and capabilities), xattrs and mtimes
 *   are restored; directory mtimes last, once their content stops changing.
 * - Names are written with their exact bytes, UTF-8 or not (see tarfs/byte-names.ts).
 * An unsafe or unreadable archive fails with a SnapshotError and leaves a partial directory
 * for the caller to remove with its snapshot.
 *
 * The file system calls are synchronous: each takes microseconds (metadata, and writes into the
 * page cache), while a trip through libuv's thread pool and back costs far more. A base image
 * is mostly small entries (busybox: 268 symlinks), where the asynchronous calls made applying
 * it take ~150 ms; decompression keeps running on the thread pool meanwhile.
 */
import { chmodSync, closeSync, constants as fsc, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { S_IFBLK, S_IFCHR, S_IFIFO, makedev, native } from '../native/index.js';
import { fsPath, isTarError, readTar, type TarReadHeader } from '../tarfs/index.js';
import { decompressed } from './decompress.js';
import { SnapshotError } from './errors.js';
import { AUFS_META_PREFIX, OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX, isLayerXattr } from './xattrs.js';

export interface ApplyResult {
  /** Entries in the archive (PAX and long-name records not counted). */
  readonly entries: number;
  /** Bytes of the (uncompressed) tar. */
  readonly size: number;
}

function unsafe(message: string): SnapshotError {
  return new SnapshotError('UNSAFE_ENTRY', message);
}

/** The components of an archive path; throws on `..`. Empty for the archive root. */
export function pathComponents(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(`tar entry ${JSON.stringify(name)} climbs out with ".."`);
  return parts;
}

/** Applies an (optionally gzip/zstd-compressed) layer tar to `targetDir`, which must be an empty directory. */
export async function applyTar(tar: AsyncIterable<Uint8Array>, targetDir: string): Promise<ApplyResult> {
  const root = await lstat(targetDir);
  if (!root.isDirectory()) throw new SnapshotError('INVALID_ARGUMENT', `${targetDir} is not a directory`);
  if ((await readdir(targetDir)).length > 0) throw new SnapshotError('INVALID_ARGUMENT', `${targetDir} is not empty`);
  const applier = new Applier(targetDir);
  let entries = 0;
  let size = 0;
  const counted = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      size += chunk.byteLength;
      yield chunk;
    }
  };
  try {
    for await (const { header, body } of readTar(counted(await decompressed(tar)))) {
      entries++;
      await applier.entry(header, body);
    }
    await applier.finish();
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    // The archive's own faults keep their reason and message, as a snapshot error like the rest.
    if (isTarError(e)) throw new SnapshotError(e.reason, e.message, { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new SnapshotError('BAD_TAR', `layer decompression failed: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
  return { entries, size };
}

class Applier {
  /** Directories known to be real directories inside the target; cleared whenever anything is removed. */
  private safeDirs = new Set<string>();
  /** Directory mtimes to set at the end, by path. */
  private dirTimes = new Map<string, number>();
  /**
   * Every path an entry made. The target starts empty, so a path not here does not exist: no
   * lookup is needed before creating it (removals leave stale names, which only cost a lookup).
   */
  private readonly created = new Set<string>();

  constructor(private readonly root: string) {}

  /** The directory for these components, creating missing ones; never follows a symlink. */
  private async ensureDir(parts: readonly string[], entryName: string): Promise<string> {
    let dir = this.root;
    for (const [index, part] of parts.entries()) {
      dir = join(dir, part);
      if (this.safeDirs.has(dir)) continue;
      const st = this.created.has(dir) ? lstatSync(fsPath(dir), { throwIfNoEntry: false }) : undefined;
      if (st === undefined) {
        mkdirSync(fsPath(dir), { mode: 0o755 });
        chmodSync(fsPath(dir), 0o755); // whatever the umask
        this.created.add(dir);
        this.safeDirs.add(dir);
        continue;
      }
      if (!st.isDirectory()) {
        throw unsafe(`tar entry ${JSON.stringify(entryName)} goes through ${st.isSymbolicLink() ? 'a symlink' : 'a non-directory'} at ${JSON.stringify(parts.slice(0, index + 1).join('/'))}`);
      }
      this.safeDirs.add(dir);
    }
    return dir;
  }

  /** Removes whatever is at `path` (not following a symlink) so a new entry can take its place. */
  private async clear(path: string): Promise<void> {
    if (!this.created.has(path)) {
      this.created.add(path);
      return;
    }
    if (lstatSync(fsPath(path), { throwIfNoEntry: false }) === undefined) return;
    await rm(fsPath(path), { recursive: true, force: true });
    this.safeDirs.clear();
  }

  async entry(h: TarReadHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const parts = pathComponents(h.name);
    const base = parts[parts.length - 1];

    if (base === undefined) {
      // The archive's root ("./"): its metadata describes the layer's root directory.
      if (h.type !== 'dir') throw unsafe(`tar entry ${JSON.stringify(h.name)} would replace the layer root`);
      this.restoreMetadata(this.root, h);
      this.dirTimes.set(this.root, h.mtime);
      return;
    }
    const parentParts = parts.slice(0, -1);

    if (base === OPAQUE_MARKER) {
      const dir = await this.ensureDir(parentParts, h.name);
      native().lsetxattr(fsPath(dir), OPAQUE_XATTR, Buffer.from('y'), 0);
      return;
    }
    if (base.startsWith(AUFS_META_PREFIX)) return; // aufs bookkeeping, never content
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw unsafe(`invalid whiteout ${JSON.stringify(h.name)}`);
      const path = join(await this.ensureDir(parentParts, h.name), hidden);
      await this.clear(path);
      native().mknod(fsPath(path), S_IFCHR, makedev(0, 0));
      lutimesSync(fsPath(path), h.mtime, h.mtime);
      return;
    }

    const dir = await this.ensureDir(parentParts, h.name);
    const path = join(dir, base);

    if (h.type === 'dir') {
      const existing = this.created.has(path) ? lstatSync(fsPath(path), { throwIfNoEntry: false }) : undefined;
      if (existing === undefined || !existing.isDirectory()) {
        await this.clear(path);
        mkdirSync(fsPath(path), { mode: 0o700 });
      }
      this.created.add(path);
      this.safeDirs.add(path);
      this.restoreMetadata(path, h);
      this.dirTimes.set(path, h.mtime);
      return;
    }

    await this.clear(path);
    switch (h.type) {
      case 'file':
        await this.writeFile(path, body);
        break;
      case 'symlink':
        symlinkSync(fsPath(h.linkname), fsPath(path));
        break;
      case 'link':
        linkSync(fsPath(this.linkSource(h)), fsPath(path));
        return; // same inode as its source: nothing more to restore
      case 'char':
      case 'block':
      case 'fifo': {
        const type = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        native().mknod(fsPath(path), type | 0o600, h.type === 'fifo' ? 0 : makedev(h.devmajor, h.devminor));
        break;
      }
    }
    this.restoreMetadata(path, h);
    lutimesSync(fsPath(path), h.mtime, h.mtime);
  }

  private async writeFile(path: string, body: AsyncIterable<Buffer>): Promise<void> {
    const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
    const fd = openSync(fsPath(path), flags, 0o600);
    try {
      for await (const chunk of body) {
        for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written, chunk.length - written);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The existing file a hard-link entry points at, reached without following symlinks. */
  private linkSource(h: TarReadHeader): string {
    const parts = pathComponents(h.linkname);
    const base = parts[parts.length - 1];
    if (base === undefined) throw unsafe(`hard link ${JSON.stringify(h.name)} points at the layer root`);
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const st = lstatOrUndefined(dir);
      if (st === undefined || !st.isDirectory()) {
        throw unsafe(`hard link ${JSON.stringify(h.name)} → ${JSON.stringify(h.linkname)}: no such directory inside the layer`);
      }
    }
    const source = join(dir, base);
    const st = lstatOrUndefined(source);
    if (st === undefined || st.isDirectory()) {
      throw unsafe(`hard link ${JSON.stringify(h.name)} → ${JSON.stringify(h.linkname)}: no such file earlier in the layer`);
    }
    return source;
  }

  /** Owner, then mode (chown clears setuid bits and capabilities), then xattrs. */
  private restoreMetadata(path: string, h: TarReadHeader): void {
    const at = fsPath(path);
    lchownSync(at, h.uid, h.gid);
    if (h.type !== 'symlink') chmodSync(at, h.mode & 0o7777);
    for (const [name, value] of h.xattrs) {
      if (!isLayerXattr(name)) continue; // overlay's own markers come only from whiteout entries
      try {
        native().lsetxattr(at, name, value, 0);
      } catch (e) {
        throw new SnapshotError('BAD_TAR', `cannot set xattr ${name} on ${h.name}: ${(e as Error).message}`, { cause: e });
      }
    }
  }

  async finish(): Promise<void> {
    for (const [path, mtime] of this.dirTimes) {
      if (lstatOrUndefined(path)?.isDirectory() === true) lutimesSync(fsPath(path), mtime, mtime);
    }
  }
}

/** lstat that takes any failure (a missing path, a non-directory on the way) as "nothing there". */
function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> {
  try {
    return lstatSync(fsPath(path), { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
