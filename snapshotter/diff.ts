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
 * hard link. Sockets cannot be stored and are left out, as Docker does. Names (and link
 * targets) go in as their exact bytes, UTF-8 or not (byte-escaped in the walk's strings;
 * see tarfs/byte-names.ts), as BuildKit's do.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { major, minor, native } from '../native/index.js';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, fsPath, nameFromBytes, readlinkName, type TarHeader } from '../tarfs/index.js';
import type { Digest } from '../oci/index.js';
import { SnapshotError } from './errors.js';
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
const WHITEOUT_PREFIX_BYTES = Buffer.from(WHITEOUT_PREFIX);

/** The deterministic tar of the layer in `upperDir`, as a stream. Nothing is buffered whole. */
export function diffTar(upperDir: string, opts: DiffOptions = {}): Readable {
  return Readable.from(generateTar(upperDir, opts), { objectMode: false });
}

/** "sha256:<hex>" of diffTar(upperDir, opts): the layer's diff id. Streams; keeps nothing. */
export async function diffID(upperDir: string, opts: DiffOptions = {}): Promise<Digest> {
  return (await diffDigest(upperDir, opts)).diffId;
}

/**
 * The diff id and the size in bytes of diffTar(upperDir, opts), in one pass. A layer of more
 * than a few MiB is hashed on a thread of its own while the walk reads on: the walk's
 * syscalls and the sha256 then take two cores instead of one.
 */
export async function diffDigest(upperDir: string, opts: DiffOptions = {}): Promise<{ diffId: Digest; size: number }> {
  const spare: Buffer[] = [];
  const chunks = generateTar(upperDir, opts, spare);
  const early: Buffer[] = [];
  let size = 0;
  // Not for-await: leaving that loop would close the generator the hashing thread goes on with.
  for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
    size += next.value.length;
    early.push(next.value);
    if (size >= OFF_THREAD_AFTER) return hashOffThread(early, chunks, size, spare);
  }
  const hash = createHash('sha256');
  for (const chunk of early) hash.update(chunk);
  return { diffId: `sha256:${hash.digest('hex')}` as Digest, size };
}

/** Past this many bytes of tar, the sha256 moves to a thread of its own. */
const OFF_THREAD_AFTER = 4 * CHUNK;
/** Chunks on their way to that thread at most: the walk waits beyond (memory stays flat). */
const IN_FLIGHT = 4;
/**
 * The hashing thread: takes transferred chunks, sends each one's buffer back once hashed (to
 * be filled again), answers the hex digest when sent null. A script of its own, evaluated:
 * no file to find next to this module, whether it runs compiled or from its sources.
 */
const HASH_THREAD = `
const { createHash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const hash = createHash('sha256');
parentPort.on('message', (chunk) => {
  if (chunk === null) return parentPort.postMessage(hash.digest('hex'));
  hash.update(chunk);
  parentPort.postMessage(chunk.buffer, [chunk.buffer]);
});
`;

/** Hashes `early`, then the rest of `chunks`, on the hashing thread; returned buffers go to `spare`. */
async function hashOffThread(early: Buffer[], chunks: AsyncIterable<Buffer>, sizeSoFar: number, spare: Buffer[]): Promise<{ diffId: Digest; size: number }> {
  // node:worker_threads only for a large layer: loading it costs every start ~1 ms.
  const worker = new (process.getBuiltinModule('node:worker_threads').Worker)(HASH_THREAD, { eval: true });
  let size = sizeSoFar;
  let inFlight = 0;
  let room: (() => void) | undefined;
  let digest: ((hex: string) => void) | undefined;
  let failure: { error: unknown } | undefined;
  const wake = () => {
    room?.();
    room = undefined;
  };
  worker.on('message', (m: ArrayBuffer | string) => {
    if (typeof m === 'string') return digest?.(m);
    inFlight--;
    if (m.byteLength === CHUNK) spare.push(Buffer.from(m));
    wake();
  });
  const fail = (error: unknown) => {
    failure ??= { error };
    wake();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`internal: the hashing thread exited (${code})`)));
  const send = async (chunk: Buffer) => {
    while (inFlight >= IN_FLIGHT && failure === undefined) await new Promise<void>((resolve) => (room = resolve));
    if (failure !== undefined) throw failure.error;
    inFlight++;
    // Every chunk is a view of a CHUNK-sized buffer of its own, never written again until it comes back.
    worker.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
  };
  try {
    for (const chunk of early) await send(chunk);
    for await (const chunk of chunks) {
      size += chunk.length;
      await send(chunk);
    }
    const hex = await new Promise<string>((resolve, reject) => {
      if (failure !== undefined) return reject(failure.error);
      digest = resolve;
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`internal: the hashing thread exited (${code})`)));
      worker.postMessage(null);
    });
    return { diffId: `sha256:${hex}` as Digest, size };
  } finally {
    await worker.terminate();
  }
}

interface Child {
  /** Byte-escaped, as tarfs/byte-names.ts has names. */
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
  const at = fsPath(path);
  for (const name of [OPAQUE_XATTR, USER_OPAQUE_XATTR]) {
    const value = addon.lgetxattr(at, name);
    if (value !== null && value.length === 1 && value[0] === 0x79 /* 'y' */) return true;
  }
  return false;
}

function layerXattrs(path: string): [string, Buffer][] {
  const addon = native();
  const at = fsPath(path);
  const names = addon.llistxattr(at).filter(isLayerXattr).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: [string, Buffer][] = [];
  for (const name of names) {
    const value = addon.lgetxattr(at, name);
    if (value !== null) out.push([name, value]);
  }
  return out;
}

function children(dir: string): Child[] {
  const entries: Child[] = [];
  const raws = readdirSync(fsPath(dir), { encoding: 'buffer' });
  for (const raw of raws) {
    const name = nameFromBytes(raw);
    const path = join(dir, name);
    const st = lstatSync(fsPath(path), { bigint: true });
    const whiteout = isWhiteout(st);
    if (!whiteout && name.startsWith(WHITEOUT_PREFIX)) {
      throw new SnapshotError('NOT_SUPPORTED', `${path}: a file named ${WHITEOUT_PREFIX}* cannot be stored in a layer (it would read as a whiteout)`);
    }
    entries.push({ name, path, st, whiteout, tarName: whiteout ? Buffer.concat([WHITEOUT_PREFIX_BYTES, raw]) : raw });
  }
  return entries.sort((a, b) => Buffer.compare(a.tarName, b.tarName));
}

/**
 * Gathers the tar's bytes into CHUNK-sized buffers, each a buffer of its own (a consumer may
 * keep or transfer it) taken from `spare` when the consumer has handed some back there, else
 * newly allocated.
 */
class Chunker {
  private buf: Buffer;
  private used = 0;
  private readonly full: Buffer[] = [];

  constructor(private readonly spare: Buffer[] = []) {
    this.buf = this.fresh();
  }

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
    return this.full.splice(0);
  }

  private seal(): void {
    this.full.push(this.buf.subarray(0, this.used));
    this.buf = this.fresh();
    this.used = 0;
  }

  private fresh(): Buffer {
    // allocUnsafe of a whole CHUNK never comes from Node's shared pool: the buffer is its own.
    return this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
  }
}

async function* generateTar(root: string, opts: DiffOptions, spare?: Buffer[]): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  if (epoch !== undefined && !Number.isInteger(epoch)) throw new SnapshotError('INVALID_ARGUMENT', `SOURCE_DATE_EPOCH must be whole seconds, got ${epoch}`);
  const mtimeOf = (st: BigIntStats): number => {
    const seconds = Number(st.mtimeNs / 1_000_000_000n - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n));
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  };
  const rootStat = lstatSync(fsPath(root), { bigint: true });
  if (!rootStat.isDirectory()) throw new SnapshotError('INVALID_ARGUMENT', `${root} is not a directory`);
  /** First tar path of each multiply-linked inode. */
  const firstPaths = new Map<string, string>();
  const out = new Chunker(spare);
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
        const fd = openSync(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW);
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
        out.put(encodeHeader({ ...base, name, type: 'symlink', linkname: readlinkName(path), xattrs }));
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
