/**
 * A directory's entries with their lstat fields in one call into the addon (scanDir in
 * native/addon/scan.c): names in byte order, "." and ".." left out, each entry lstat'ed
 * relative to the open directory. For walks that stat every entry of a large tree, where a
 * `fs.lstatSync` per path (and its object of bigints) costs several times the syscall.
 * Names and paths are strings as byte-names.ts has them: a name that is not UTF-8 comes back
 * byte-escaped, and a directory path holding escapes goes to the addon as its bytes.
 *
 *   const { names, fields } = scanDir(dir);
 *   for (let i = 0; i < names.length; i++) {
 *     const mode = fields[i * SCAN_FIELDS + F_MODE]!;
 *     if (fields[i * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) { ... lstat dir/name yourself ... }
 *   }
 */
import { native, type ScanAheadHandle } from '../native/index.js';
import { fsPath, nameFromBytes } from './byte-names.js';

/**
 * Numbers before the entries: their count, how many are SCAN_BY_PATH, how many directories,
 * how many names are not UTF-8.
 */
const HEAD = 4;
/** Numbers per entry in DirScan.fields. */
export const SCAN_FIELDS = 13;
// The fields of an entry, at i * SCAN_FIELDS + F_*: st_mode, owners, size, the times as
// seconds and nanoseconds, and the 64-bit inode and device numbers as two 32-bit halves
// each (exact, where one double would not be).
export const F_MODE = 0;
export const F_UID = 1;
export const F_GID = 2;
export const F_SIZE = 3;
export const F_MTIME_SEC = 4;
export const F_MTIME_NSEC = 5;
export const F_CTIME_SEC = 6;
export const F_CTIME_NSEC = 7;
export const F_INO_HI = 8;
export const F_INO_LO = 9;
export const F_RDEV_HI = 10;
export const F_RDEV_LO = 11;
export const F_FLAGS = 12;
/**
 * F_FLAGS: the entry's other fields are not filled in, because its full path is longer than
 * one lstat takes. Look it up by `${dir}/${name}` as a walk by path does (and meet the same
 * outcome).
 */
export const SCAN_BY_PATH = 1;

export interface DirScan {
  /** Entry names in byte order of the names the kernel gave, without loss (see byte-names.ts). */
  readonly names: readonly string[];
  /** SCAN_FIELDS numbers per entry, in the order of `names`. */
  readonly fields: Float64Array;
  /** Some entry is SCAN_BY_PATH. */
  readonly byPath: boolean;
  /** How many entries are directories (not counting SCAN_BY_PATH ones). */
  readonly dirs: number;
}

/**
 * The entries of directory `dir` (followed if it is a symlink, as fs.readdirSync does).
 * Entries removed between reading the directory and their lstat are left out. Throws errors
 * shaped like Node's fs errors (syscall 'scandir' or 'lstat').
 */
export function scanDir(dir: string): DirScan {
  return decode(native().scanDir(fsPath(dir)));
}

/**
 * scanDir for a walk that knows which directories come next: up to `ahead` of them are
 * scanned on libuv's thread pool while the walk works on the one it is in, in the order
 * they are expected (a directory's subdirectories before the directories that were next
 * before them: depth first). `take` is synchronous: it gets a finished scan at once, waits
 * for one under way, and scans on the spot a directory no thread has started. It gives what
 * scanDir would, errors included. `close` when done (a garbage-collected scanner closes itself).
 */
export class DirScanner {
  private readonly handle: ScanAheadHandle;
  /** Directories expected next, in order, not queued yet. */
  private readonly expected: string[] = [];
  /** Queued with the addon and not taken yet. */
  private readonly queued = new Set<string>();

  constructor(private readonly ahead: number) {
    this.handle = native().scanAheadOpen();
  }

  /** The walk will visit `dirs` next, in this order, before the directories expected so far. */
  expect(dirs: readonly string[]): void {
    if (dirs.length > 0) this.expected.unshift(...dirs);
    this.fill();
  }

  /** Directory `dir`'s scan. */
  take(dir: string): DirScan {
    if (this.queued.delete(dir)) {
      this.fill();
    } else {
      const at = this.expected.indexOf(dir); // taken before a thread was free for it: scanned here
      if (at >= 0) this.expected.splice(at, 1);
    }
    return decode(native().scanAheadTake(this.handle, fsPath(dir)));
  }

  close(): void {
    native().scanAheadClose(this.handle);
    this.expected.length = 0;
    this.queued.clear();
  }

  private fill(): void {
    while (this.queued.size < this.ahead && this.expected.length > 0) {
      const dir = this.expected.shift()!;
      if (this.queued.has(dir)) continue;
      native().scanAheadQueue(this.handle, fsPath(dir));
      this.queued.add(dir);
    }
  }
}

function decode(buffer: Buffer): DirScan {
  let bytes = buffer.buffer;
  let at = buffer.byteOffset;
  if (at % 8 !== 0) {
    // Float64Array needs 8-byte alignment; the addon's buffers have it, a copy makes sure.
    bytes = buffer.buffer.slice(at, at + buffer.length);
    at = 0;
  }
  const head = new Float64Array(bytes, at, HEAD);
  const count = head[0]!;
  const fields = new Float64Array(bytes, at + HEAD * 8, count * SCAN_FIELDS);
  const namesAt = (HEAD + count * SCAN_FIELDS) * 8;
  const names = count === 0 ? [] : head[3]! > 0 ? splitBytes(buffer, namesAt) : buffer.toString('utf8', namesAt).split('/');
  return { names, fields, byPath: head[1]! > 0, dirs: head[2]! };
}

/** The '/'-joined names from byte `at` on, each decoded without loss. */
function splitBytes(buffer: Buffer, at: number): string[] {
  const names: string[] = [];
  for (;;) {
    const slash = buffer.indexOf(0x2f, at);
    names.push(nameFromBytes(buffer.subarray(at, slash < 0 ? buffer.length : slash)));
    if (slash < 0) return names;
    at = slash + 1;
  }
}
