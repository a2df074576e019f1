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
import { closeSync, constants, lstatSync, openSync, readSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SnapshotError } from './errors.js';
import { major, minor, native } from './native.js';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, type TarHeader } from './tar-format.js';
import { OPAQUE_MARKER, OPAQUE_XATTR, USER_OPAQUE_XATTR, WHITEOUT_PREFIX, isLayerXattr } from './xattrs.js';

export interface DiffOptions {
  /** SOURCE_DATE_EPOCH: no mtime in the tar is later than this (seconds since the epoch). */
  readonly sourceDateEpoch?: number;
}

/**
 * The tar goes out in chunks of this size: headers and small files are gathered into one
 * buffer (file content read straight into it), so a layer of 20,000 small files is a few
 * hundred chunks, not 60,000. Larger files are read in chunks of this size.
 */
const CHUNK = 1024 * 1024;
/**
 * The walk uses synchronous calls: on a page-cached upper dir an lstat or a small read costs
 * a few microseconds, a trip through libuv's thread pool several times that. So that other
 * work (other layers, progress) is not held up, the walk yields to the event loop whenever it
 * has run this long.
 */
const SLICE_MS = 8;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The deterministic tar of the layer in `upperDir`, as a stream. Nothing is buffered whole. */
export function diffTar(upperDir: string, opts: DiffOptions = {}): Readable {
  return Readable.from(generateTar(upperDir, opts), { objectMode: false });
}

/** "sha256:<hex>" of diffTar(upperDir, opts): the layer's diff id. Streams; keeps nothing. */
export async function diffID(upperDir: string, opts: DiffOptions = {}): Promise<string> {
  return (await diffDigest(upperDir, opts)).diffId;
}

/** The diff id and the size in bytes of diffTar(upperDir, opts), in one pass. */
export async function diffDigest(upperDir: string, opts: DiffOptions = {}): Promise<{ diffId: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  // The hash is done with each chunk before asking for the next: the chunks can be reused.
  for await (const chunk of generateTar(upperDir, opts, true)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
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

function children(dir: string): Child[] {
  const entries: Child[] = [];
  const raws = readdirSync(dir, { encoding: 'buffer' });
  for (const raw of raws) {
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      throw new SnapshotError('NOT_SUPPORTED', `file name is not valid UTF-8: ${join(dir, raw.toString('latin1'))}`);
    }
    const path = join(dir, name);
    const st = lstatSync(path, { bigint: true });
    const whiteout = isWhiteout(st);
    if (!whiteout && name.startsWith(WHITEOUT_PREFIX)) {
      throw new SnapshotError('NOT_SUPPORTED', `${path}: a file named ${WHITEOUT_PREFIX}* cannot be stored in a layer (it would read as a whiteout)`);
    }
    entries.push({ name, path, st, whiteout, tarName: whiteout ? Buffer.from(WHITEOUT_PREFIX + name) : raw });
  }
  return entries.sort((a, b) => Buffer.compare(a.tarName, b.tarName));
}

/**
 * Gathers the tar's bytes into CHUNK-sized buffers. By default a buffer handed out is never
 * written again (a stream consumer may keep it). With `reuse`, the consumer promises to be
 * done with the chunks of one take() when it asks for the next (a hash is): their buffers
 * are then filled again, and a layer of any size costs a couple of chunks of memory.
 */
class Chunker {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private readonly full: Buffer[] = [];
  /** The whole buffers behind `full`, behind the chunks last handed out, and those free to fill again. */
  private fullWhole: Buffer[] = [];
  private handed: Buffer[] = [];
  private readonly spare: Buffer[] = [];

  constructor(private readonly reuse: boolean) {}

  /** Copies `data` in. */
  put(data: Buffer): void {
    let from = 0;
    while (from < data.length) {
      const n = Math.min(data.length - from, CHUNK - this.used);
      data.copy(this.buf, this.used, from, from + n);
      this.used += n;
      from += n;
      if (this.used === CHUNK) this.seal();
    }
  }

  /** Zero bytes, e.g. padding. */
  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(count, CHUNK - this.used);
      this.buf.fill(0, this.used, this.used + n);
      this.used += n;
      count -= n;
      if (this.used === CHUNK) this.seal();
    }
  }

  /**
   * Up to `left` bytes of the open file `fd`, read straight into the current chunk (until it
   * is full): how many were read, and whether the end of the file was seen. Where the chunk
   * has room, one byte more is asked for: a regular file returns less only at its end, so
   * the usual small file takes a single read. A file that changes size is an error, never a
   * corrupt tar.
   */
  read(fd: number, left: number, path: string): { n: number; atEnd: boolean } {
    const room = CHUNK - this.used;
    const want = Math.min(left + 1, room);
    const n = readSync(fd, this.buf, this.used, want, null);
    if (n === 0) throw new SnapshotError('CORRUPT', `${path} shrank while being read`);
    if (n > left) throw new SnapshotError('CORRUPT', `${path} grew while being read`);
    this.used += n;
    if (this.used === CHUNK) this.seal();
    return { n, atEnd: n < want };
  }

  /** The chunks filled so far (and, with `all`, the partial one). */
  take(all = false): Buffer[] {
    if (all && this.used > 0) this.seal();
    if (this.reuse) {
      this.spare.push(...this.handed);
      this.handed = this.fullWhole;
    }
    this.fullWhole = [];
    return this.full.splice(0);
  }

  private seal(): void {
    this.full.push(this.buf.subarray(0, this.used));
    this.fullWhole.push(this.buf);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
    this.used = 0;
  }
}

async function* generateTar(root: string, opts: DiffOptions, reuseChunks = false): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  if (epoch !== undefined && !Number.isInteger(epoch)) throw new SnapshotError('INVALID_ARGUMENT', `SOURCE_DATE_EPOCH must be whole seconds, got ${epoch}`);
  const mtimeOf = (st: BigIntStats): number => {
    const seconds = Number(st.mtimeNs / 1_000_000_000n - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n));
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  };
  const rootStat = lstatSync(root, { bigint: true });
  if (!rootStat.isDirectory()) throw new SnapshotError('INVALID_ARGUMENT', `${root} is not a directory`);
  /** First tar path of each multiply-linked inode. */
  const firstPaths = new Map<string, string>();
  const out = new Chunker(reuseChunks);
  let sliceStart = performance.now();

  /** Between entries: hand out full chunks, and let the event loop run now and then. */
  async function* drain(): AsyncGenerator<Buffer> {
    yield* out.take();
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }

  async function* walk(dir: string, prefix: string): AsyncGenerator<Buffer> {
    for (const child of children(dir)) {
      yield* drain();
      const { st, path } = child;
      const base = { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtime: mtimeOf(st), size: 0 };

      if (child.whiteout) {
        out.put(encodeHeader({ ...base, name: prefix + WHITEOUT_PREFIX + child.name, type: 'file', mode: 0, uid: 0, gid: 0 }));
        continue;
      }
      const name = prefix + child.name;
      const xattrs = layerXattrs(path);

      if (st.isDirectory()) {
        out.put(encodeHeader({ ...base, name, type: 'dir', xattrs }));
        if (isOpaque(path)) {
          out.put(encodeHeader({ name: `${name}/${OPAQUE_MARKER}`, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: base.mtime }));
        }
        yield* walk(path, `${name}/`);
        continue;
      }
      if (st.isSocket()) continue;

      if (st.nlink > 1n) {
        const inode = `${st.dev}:${st.ino}`;
        const first = firstPaths.get(inode);
        if (first !== undefined) {
          out.put(encodeHeader({ ...base, name, type: 'link', linkname: first, xattrs }));
          continue;
        }
        firstPaths.set(inode, name);
      }

      if (st.isFile()) {
        const size = Number(st.size);
        // O_NOFOLLOW: the entry was lstat'ed as a file; whatever replaced it is not followed.
        const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          out.put(encodeHeader({ ...base, name, type: 'file', size, xattrs }));
          let atEnd = false;
          for (let left = size; left > 0; ) {
            const r = out.read(fd, left, path);
            left -= r.n;
            atEnd = r.atEnd;
            if (left > 0) {
              if (atEnd) throw new SnapshotError('CORRUPT', `${path} shrank while being read`);
              yield* drain();
            }
          }
          if (!atEnd && readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) !== 0) throw new SnapshotError('CORRUPT', `${path} grew while being read`);
        } finally {
          closeSync(fd);
        }
        out.zeros((BLOCK - (size % BLOCK)) % BLOCK);
      } else if (st.isSymbolicLink()) {
        out.put(encodeHeader({ ...base, name, type: 'symlink', linkname: readlinkSync(path), xattrs }));
      } else if (st.isFIFO()) {
        out.put(encodeHeader({ ...base, name, type: 'fifo', xattrs }));
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
        out.put(encodeHeader(header));
      }
    }
  }

  yield* walk(root, '');
  out.put(END_OF_ARCHIVE);
  yield* out.take(true);
}
