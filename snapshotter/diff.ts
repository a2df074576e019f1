/**
 * The layer diff: an overlay upper dir as a deterministic POSIX tar, streamed.
 *
 * Order: depth first; within a directory, children sorted by the bytes of their names as they
 * appear in the tar (a whiteout sorts as `.wh.NAME`), each directory before its contents, an
 * opaque directory's `.wh..wh..opq` right after the directory itself. Only what the layer means
 * goes in: names, types, modes, numeric owners, whole-second mtimes (clamped to
 * SOURCE_DATE_EPOCH when given), link targets, device numbers, layer xattrs; never uname/gname,
 * atime, ctime or inode numbers. The same upper dir gives the same bytes.
 * Overlay whiteouts (char device 0:0) become empty `.wh.NAME` files. A hard link inside the
 * layer is stored once, later paths as link entries; overlay's shared whiteout inode is not a
 * hard link. Sockets cannot be stored and are left out, as Docker does.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, open, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SnapshotError } from './errors.js';
import { major, minor, native } from './native.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeader } from './tar-format.js';
import { OPAQUE_MARKER, OPAQUE_XATTR, USER_OPAQUE_XATTR, WHITEOUT_PREFIX, isLayerXattr } from './xattrs.js';

export interface DiffOptions {
  /** SOURCE_DATE_EPOCH: no mtime in the tar is later than this (seconds since the epoch). */
  readonly sourceDateEpoch?: number;
}

const READ_CHUNK = 1024 * 1024;
const STAT_CHUNK = 64;
/** Small files are read ahead, this many at once, while earlier entries are written out. */
const READ_AHEAD = 32;
const SMALL_FILE = 256 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The deterministic tar of the layer in `upperDir`, as a stream. Nothing is buffered whole. */
export function diffTar(upperDir: string, opts: DiffOptions = {}): Readable {
  return Readable.from(generateTar(upperDir, opts), { objectMode: false });
}

/** "sha256:<hex>" of diffTar(upperDir, opts): the layer's diff id. Streams; keeps nothing. */
export async function diffID(upperDir: string, opts: DiffOptions = {}): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of generateTar(upperDir, opts)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

interface Child {
  readonly name: string;
  readonly path: string;
  readonly st: BigIntStats;
  readonly whiteout: boolean;
  /** The name's bytes as they go in the tar: the sort key. */
  readonly tarName: Buffer;
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

function isOpaque(path: string): boolean {
  const addon = native();
  for (const name of [OPAQUE_XATTR, USER_OPAQUE_XATTR]) {
    const value = addon.lgetxattr(path, name);
    if (value !== null && value.length === 1 && value[0] === 0x79 /* 'y' */) return true;
  }
  return false;
}

function layerXattrs(path: string): [string, Buffer][] {
  const addon = native();
  const names = addon.llistxattr(path).filter(isLayerXattr).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: [string, Buffer][] = [];
  for (const name of names) {
    const value = addon.lgetxattr(path, name);
    if (value !== null) out.push([name, value]);
  }
  return out;
}

async function children(dir: string): Promise<Child[]> {
  const entries: Child[] = [];
  const raws = await readdir(dir, { encoding: 'buffer' });
  const names = raws.map((raw) => {
    try {
      return utf8.decode(raw);
    } catch {
      throw new SnapshotError('NOT_SUPPORTED', `file name is not valid UTF-8: ${join(dir, raw.toString('latin1'))}`);
    }
  });
  // The lstat calls of a directory go out together, a chunk at a time.
  const stats: BigIntStats[] = [];
  for (let i = 0; i < names.length; i += STAT_CHUNK) {
    stats.push(...(await Promise.all(names.slice(i, i + STAT_CHUNK).map((n) => lstat(join(dir, n), { bigint: true })))));
  }
  for (const [i, name] of names.entries()) {
    const path = join(dir, name);
    const st = stats[i]!;
    const whiteout = isWhiteout(st);
    if (!whiteout && name.startsWith(WHITEOUT_PREFIX)) {
      throw new SnapshotError('NOT_SUPPORTED', `${path}: a file named ${WHITEOUT_PREFIX}* cannot be stored in a layer (it would read as a whiteout)`);
    }
    entries.push({ name, path, st, whiteout, tarName: Buffer.from(whiteout ? WHITEOUT_PREFIX + name : name) });
  }
  return entries.sort((a, b) => Buffer.compare(a.tarName, b.tarName));
}

async function* generateTar(root: string, opts: DiffOptions): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  if (epoch !== undefined && !Number.isInteger(epoch)) throw new SnapshotError('INVALID_ARGUMENT', `SOURCE_DATE_EPOCH must be whole seconds, got ${epoch}`);
  const mtimeOf = (st: BigIntStats): number => {
    const seconds = Number(st.mtimeNs / 1_000_000_000n - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n));
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  };
  const rootStat = await lstat(root, { bigint: true });
  if (!rootStat.isDirectory()) throw new SnapshotError('INVALID_ARGUMENT', `${root} is not a directory`);
  /** First tar path of each multiply-linked inode. */
  const firstPaths = new Map<string, string>();

  async function* walk(dir: string, prefix: string): AsyncGenerator<Buffer> {
    const kids = await children(dir);
    const ahead = new Map<number, Promise<Buffer>>();
    const readAhead = (from: number) => {
      for (let j = from; j < Math.min(kids.length, from + READ_AHEAD); j++) {
        const k = kids[j]!;
        if (ahead.has(j) || !k.st.isFile() || k.whiteout || k.st.size > BigInt(SMALL_FILE)) continue;
        const data = readFile(k.path);
        data.catch(() => {}); // awaited when its turn comes
        ahead.set(j, data);
      }
    };
    for (const [index, child] of kids.entries()) {
      readAhead(index);
      const prefetched = ahead.get(index);
      ahead.delete(index);
      const { st, path } = child;
      const base = { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtime: mtimeOf(st), size: 0 };

      if (child.whiteout) {
        yield encodeHeader({ ...base, name: prefix + WHITEOUT_PREFIX + child.name, type: 'file', mode: 0, uid: 0, gid: 0 });
        continue;
      }
      const name = prefix + child.name;
      const xattrs = layerXattrs(path);

      if (st.isDirectory()) {
        yield encodeHeader({ ...base, name, type: 'dir', xattrs });
        if (isOpaque(path)) {
          yield encodeHeader({ name: `${name}/${OPAQUE_MARKER}`, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: base.mtime });
        }
        yield* walk(path, `${name}/`);
        continue;
      }
      if (st.isSocket()) continue;

      if (st.nlink > 1n) {
        const inode = `${st.dev}:${st.ino}`;
        const first = firstPaths.get(inode);
        if (first !== undefined) {
          yield encodeHeader({ ...base, name, type: 'link', linkname: first, xattrs });
          continue;
        }
        firstPaths.set(inode, name);
      }

      if (st.isFile()) {
        const size = Number(st.size);
        yield encodeHeader({ ...base, name, type: 'file', size, xattrs });
        if (prefetched !== undefined) {
          const data = await prefetched;
          if (data.length !== size) throw new SnapshotError('CORRUPT', `${path} changed size while its layer was being written`);
          yield data;
        } else {
          yield* fileContent(path, size);
        }
        yield padding(size);
      } else if (st.isSymbolicLink()) {
        yield encodeHeader({ ...base, name, type: 'symlink', linkname: await readlink(path), xattrs });
      } else if (st.isFIFO()) {
        yield encodeHeader({ ...base, name, type: 'fifo', xattrs });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const rdev = Number(st.rdev);
        const header: TarHeader = {
          ...base,
          name,
          type: st.isCharacterDevice() ? 'char' : 'block',
          devmajor: major(rdev),
          devminor: minor(rdev),
          xattrs,
        };
        yield encodeHeader(header);
      }
    }
  }

  yield* walk(root, '');
  yield END_OF_ARCHIVE;
}

/** Exactly `size` bytes of the file; a file that changes size meanwhile is an error, not a corrupt tar. */
async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(left, READ_CHUNK));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) throw new SnapshotError('CORRUPT', `${path} shrank while being read`);
      left -= bytesRead;
      yield bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
    }
    const extra = await handle.read(Buffer.alloc(1), 0, 1, null);
    if (extra.bytesRead !== 0) throw new SnapshotError('CORRUPT', `${path} grew while being read`);
  } finally {
    await handle.close();
  }
}
