/**
 * A persistent map from a file's identity and metadata (path, size, mtime and ctime in ns,
 * inode) to the BLAKE3 of its content, so that re-hashing an unchanged context costs only
 * `lstat` calls. A file whose timestamps are too close to the moment it was hashed is not
 * remembered: a write within the filesystem's timestamp granularity could go unseen (git's
 * "racily clean" problem). Saved atomically: temp file, fsync, rename.
 *
 * Rows are kept by directory, as a walk meets them: a lookup is by a directory's rows
 * (found once per directory) and a name, and mostly finds the row it expects next (rows are
 * saved in the order they were recorded, a walk's order). A directory's rows are decoded
 * when a walk reaches it, and kept only once they change: unchanged ones are garbage as
 * soon as the walk moves on (kept, 20,000 rows of strings cost every young-generation GC
 * of the walk a copy). So 20,000 unchanged files cost a few milliseconds, not the ~25 ms
 * of parsing JSON plus a lookup by full path each. The file:
 *
 *   MAGIC, NUL-padded to 24 bytes
 *   f64 × 5: BYTE_ORDER_MARK, directories, rows, bytes of directory names, bytes of rows' strings
 *   f64 × 2 per directory: its rows, the bytes of its rows' strings
 *   f64 × STAMP_FIELDS per row: size, mtime s, mtime ns, ctime s, ctime ns, inode high, low half
 *   the directories' host paths, their bytes, joined by NUL
 *   per directory, its rows' strings, their bytes: name NUL hash, the rows' joined by NUL
 *
 * (UTF-8 but for names that are not: those are their raw bytes, byte-escaped in memory as
 * tarfs/byte-names.ts has them.)
 *
 * Numbers are in the writer's byte order; a file of another format, byte order or shape
 * starts the cache empty (one directory's malformed rows, that directory).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../content/index.js';
import { BuildError } from '../../../errors/index.js';
import { nameBytes, nameFromBytes } from '../../../tarfs/index.js';
import { STAMP_FIELDS, type EntryStat } from './entry-stat.js';

// 2: a file's row holds its extended attributes' digest beside the content hash.
// 3: binary, rows by directory, not JSON.
const MAGIC = 'tsbuild-stat-cache/3\n';
const MAGIC_BYTES = 24;
/** Reads back as itself only in the byte order it was written in. */
const BYTE_ORDER_MARK = 1.5;
const HEAD_NUMBERS = 5;

export interface StatCacheOptions {
  /** Files changed less than this long before hashing started are not remembered. Default 100 ms. */
  readonly racyWindowMs?: number;
}

/** Where a directory's saved rows are in the file, until they are first needed. */
interface SavedRows {
  readonly count: number;
  /** Its row stamps: count × STAMP_FIELDS numbers. */
  readonly stamps: Float64Array;
  readonly text: Buffer;
  readonly textStart: number;
  readonly textEnd: number;
}

/** The remembered files of one directory, by name. */
export class StatCacheDir {
  /** Row r's name at 2r and hash at 2r + 1; a forgotten row's name is ''. */
  private strings: string[] = [];
  private stamps: Float64Array = new Float64Array(0);
  private count = 0;
  /** The row a lookup expects next: rows are in the order a walk meets them. */
  private next = 0;
  /** name → row, made only when a lookup does not find the row it expected. */
  private index: Map<string, number> | undefined;

  /** @internal Made by StatCache. */
  constructor(
    private readonly owner: StatCache,
    readonly path: string,
    saved: SavedRows | undefined,
  ) {
    if (saved === undefined || saved.count === 0) return;
    const strings = nameFromBytes(saved.text.subarray(saved.textStart, saved.textEnd)).split('\0');
    // Malformed, this directory starts empty. (A row with an empty name, which a damaged
    // file could hold, matches no file and is forgotten when saved.)
    if (strings.length !== 2 * saved.count) return;
    this.strings = strings;
    this.stamps = saved.stamps;
    this.count = saved.count;
  }

  /** How many files are remembered. */
  get size(): number {
    let n = 0;
    for (let r = 0; r < this.count; r++) if (this.strings[2 * r] !== '') n++;
    return n;
  }

  /** The remembered hash of file `name` in this directory if its metadata is unchanged. */
  lookup(name: string, st: EntryStat): string | undefined {
    const row = this.find(name);
    if (row < 0 || !st.sameStamp(this.stamps, row * STAMP_FIELDS)) return undefined;
    return this.strings[2 * row + 1];
  }

  /** Remember `hash` for file `name`; `startedNs` is the wall-clock time (ns) before reading began. */
  record(name: string, st: EntryStat, hash: string, startedNs: bigint): void {
    if (st.newestNs >= startedNs - this.owner.racyWindowNs) {
      // Too new to trust: forgotten, if it was remembered.
      const current = this.owner.kept(this.path) ?? this;
      const row = current.find(name);
      if (row >= 0) this.owner.keep(current).forgetRow(row);
      return;
    }
    const kept = this.owner.keep(this);
    let row = kept.find(name);
    if (row < 0) row = kept.append(name);
    kept.strings[2 * row + 1] = hash;
    st.copyStamp(kept.stamps, row * STAMP_FIELDS);
  }

  private append(name: string): number {
    const row = this.count++;
    if (this.stamps.length < this.count * STAMP_FIELDS) {
      const grown = new Float64Array(Math.max(16, this.count * 2) * STAMP_FIELDS);
      grown.set(this.stamps.subarray(0, row * STAMP_FIELDS));
      this.stamps = grown;
    }
    this.strings.push(name, '');
    this.index?.set(name, row);
    return row;
  }

  /** Forget every file for which `keep(name)` is false. */
  prune(keep: (name: string) => boolean): void {
    const gone: string[] = [];
    for (let r = 0; r < this.count; r++) {
      const name = this.strings[2 * r]!;
      if (name !== '' && !keep(name)) gone.push(name);
    }
    if (gone.length === 0) return;
    const kept = this.owner.keep(this);
    for (const name of gone) {
      const row = kept.find(name);
      if (row >= 0) kept.forgetRow(row);
    }
  }

  /** @internal The live rows, for saving. */
  rows(): { names: string[]; hashes: string[]; stamps: Float64Array[] } {
    const names: string[] = [];
    const hashes: string[] = [];
    const stamps: Float64Array[] = [];
    for (let r = 0; r < this.count; r++) {
      if (this.strings[2 * r] === '') continue;
      names.push(this.strings[2 * r]!);
      hashes.push(this.strings[2 * r + 1]!);
      stamps.push(this.stamps.subarray(r * STAMP_FIELDS, (r + 1) * STAMP_FIELDS));
    }
    return { names, hashes, stamps };
  }

  /** The row of `name`, or -1. */
  private find(name: string): number {
    const expected = this.next;
    if (expected < this.count && this.strings[2 * expected] === name) {
      this.next = expected + 1;
      return expected;
    }
    if (this.index === undefined) {
      this.index = new Map();
      for (let r = 0; r < this.count; r++) if (this.strings[2 * r] !== '') this.index.set(this.strings[2 * r]!, r);
    }
    const row = this.index.get(name);
    if (row === undefined) return -1;
    this.next = row + 1;
    return row;
  }

  /** Only on the instance the cache keeps (see StatCache.keep). */
  private forgetRow(row: number): void {
    this.index?.delete(this.strings[2 * row]!);
    this.strings[2 * row] = '';
    this.strings[2 * row + 1] = '';
  }
}

export class StatCache {
  readonly file: string;
  /** @internal */
  readonly racyWindowNs: bigint;
  /** Directories whose rows changed (or are new): these are saved from memory. */
  private readonly dirs = new Map<string, StatCacheDir>();
  /** Directories whose rows are as in the file. */
  private readonly saved: Map<string, SavedRows>;
  private dirty = false;

  private constructor(file: string, saved: Map<string, SavedRows>, opts: StatCacheOptions) {
    this.file = file;
    this.saved = saved;
    this.racyWindowNs = BigInt(Math.round((opts.racyWindowMs ?? 100) * 1e6));
  }

  /** Load the cache at `file`; a missing file or one of another format starts empty. */
  static async open(file: string, opts: StatCacheOptions = {}): Promise<StatCache> {
    let data: Buffer | undefined;
    try {
      // One read (~1 ms for 20,000 rows), where readFile's chunks through the thread pool take twice that.
      data = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new BuildError('IO', `cannot read stat cache ${file}: ${(e as Error).message}`, {}, { cause: e });
      }
    }
    return new StatCache(file, (data === undefined ? undefined : decode(data)) ?? new Map(), opts);
  }

  /** How many files are remembered. */
  get size(): number {
    let n = 0;
    for (const rows of this.saved.values()) n += rows.count;
    for (const d of this.dirs.values()) n += d.size;
    return n;
  }

  /**
   * The remembered files of host directory `path` (a walk asks once per directory). Rows as
   * in the file are decoded anew each time: the cache keeps a directory only once it changes.
   */
  dir(path: string): StatCacheDir {
    return this.dirs.get(path) ?? new StatCacheDir(this, path, this.saved.get(path));
  }

  /** @internal The instance of directory `path` the cache keeps, if its rows changed. */
  kept(path: string): StatCacheDir | undefined {
    return this.dirs.get(path);
  }

  /**
   * @internal `d` is about to change: the instance to change, which the cache keeps from now
   * on. That is `d` itself unless another instance of its directory changed first (two
   * walks at once); then the change goes to that one (and `d`, which still reads the rows
   * from before, misses where they changed: a changed file has another stamp).
   */
  keep(d: StatCacheDir): StatCacheDir {
    this.dirty = true;
    const kept = this.dirs.get(d.path);
    if (kept !== undefined) return kept;
    this.saved.delete(d.path);
    this.dirs.set(d.path, d);
    return d;
  }

  /** The remembered hash of the file at host path `path` if its metadata is unchanged. */
  lookup(path: string, st: EntryStat): string | undefined {
    const [dir, name] = splitPath(path);
    return this.dir(dir).lookup(name, st);
  }

  /** Remember `hash` for `path`; `startedNs` is the wall-clock time (ns) before reading began. */
  record(path: string, st: EntryStat, hash: string, startedNs: bigint): void {
    const [dir, name] = splitPath(path);
    this.dir(dir).record(name, st, hash, startedNs);
  }

  /** Forget every path for which `keep` is false (e.g. files no longer in the context). */
  prune(keep: (path: string) => boolean): void {
    for (const path of [...this.saved.keys(), ...this.dirs.keys()]) {
      this.dir(path).prune((name) => keep(`${path}/${name}`));
    }
  }

  /** Write the cache if it changed: to a temp file beside it, fsynced, renamed into place. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, this.encode(), 0o600);
    this.dirty = false;
  }

  private encode(): Buffer {
    const dirPaths: string[] = [];
    const groups: number[] = [];
    const stampParts: Float64Array[] = [];
    const rowTexts: Buffer[] = [];
    let rows = 0;
    // Rows not yet decoded are written back as they were read.
    for (const [path, saved] of this.saved) {
      if (saved.count === 0) continue;
      const text = saved.text.subarray(saved.textStart, saved.textEnd);
      dirPaths.push(path);
      groups.push(saved.count, text.length);
      stampParts.push(saved.stamps);
      rowTexts.push(text);
      rows += saved.count;
    }
    for (const d of this.dirs.values()) {
      const live = d.rows();
      if (live.names.length === 0) continue;
      const strings: string[] = [];
      for (let r = 0; r < live.names.length; r++) strings.push(live.names[r]!, live.hashes[r]!);
      const text = nameBytes(strings.join('\0'));
      dirPaths.push(d.path);
      groups.push(live.names.length, text.length);
      stampParts.push(...live.stamps);
      rowTexts.push(text);
      rows += live.names.length;
    }
    const dirText = nameBytes(dirPaths.join('\0'));
    const rowTextBytes = rowTexts.reduce((n, t) => n + t.length, 0);
    const numbers = new Float64Array(HEAD_NUMBERS + groups.length + rows * STAMP_FIELDS);
    numbers.set([BYTE_ORDER_MARK, dirPaths.length, rows, dirText.length, rowTextBytes]);
    numbers.set(groups, HEAD_NUMBERS);
    let at = HEAD_NUMBERS + groups.length;
    for (const s of stampParts) {
      numbers.set(s, at);
      at += s.length;
    }
    const magic = Buffer.alloc(MAGIC_BYTES);
    magic.write(MAGIC, 0, 'latin1');
    return Buffer.concat([magic, Buffer.from(numbers.buffer, numbers.byteOffset, numbers.byteLength), dirText, ...rowTexts]);
  }
}

/** The directories of a cache file, or undefined when it is not one of this format. */
function decode(data: Buffer): Map<string, SavedRows> | undefined {
  if (data.length < MAGIC_BYTES + HEAD_NUMBERS * 8 || data.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const head = numbersAt(data, MAGIC_BYTES, HEAD_NUMBERS);
  const [mark, dirCount, rowCount, dirTextBytes, rowTextBytes] = head as unknown as [number, number, number, number, number];
  if (mark !== BYTE_ORDER_MARK || ![dirCount, rowCount, dirTextBytes, rowTextBytes].every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  const groupsAt = MAGIC_BYTES + HEAD_NUMBERS * 8;
  const stampsAt = groupsAt + dirCount * 2 * 8;
  const dirTextAt = stampsAt + rowCount * STAMP_FIELDS * 8;
  const rowTextAt = dirTextAt + dirTextBytes;
  if (data.length !== rowTextAt + rowTextBytes) return undefined;
  const groups = numbersAt(data, groupsAt, dirCount * 2);
  const stamps = numbersAt(data, stampsAt, rowCount * STAMP_FIELDS);
  const dirPaths = dirCount === 0 ? [] : nameFromBytes(data.subarray(dirTextAt, rowTextAt)).split('\0');
  if (dirPaths.length !== dirCount) return undefined;
  const out = new Map<string, SavedRows>();
  let row = 0;
  let text = rowTextAt;
  for (let g = 0; g < dirCount; g++) {
    const count = groups[2 * g]!;
    const bytes = groups[2 * g + 1]!;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(bytes) || count < 0 || bytes < 0) return undefined;
    if (row + count > rowCount || text + bytes > data.length) return undefined;
    out.set(dirPaths[g]!, {
      count,
      stamps: stamps.subarray(row * STAMP_FIELDS, (row + count) * STAMP_FIELDS),
      text: data,
      textStart: text,
      textEnd: text + bytes,
    });
    row += count;
    text += bytes;
  }
  if (row !== rowCount || text !== data.length) return undefined;
  return out;
}

/** `count` f64s at byte `at` of `data`, copied (a Float64Array needs 8-byte alignment). */
function numbersAt(data: Buffer, at: number, count: number): Float64Array {
  const start = data.byteOffset + at;
  return new Float64Array(data.buffer.slice(start, start + count * 8));
}

function splitPath(path: string): [dir: string, name: string] {
  const slash = path.lastIndexOf('/');
  return [path.slice(0, slash), path.slice(slash + 1)];
}

/** Wall-clock now in ns, comparable with file timestamps. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
