/**
 * A directory's entries with their lstat fields in one call into the addon (scanDir in
 * native/addon/scan.c): names in byte order, "." and ".." left out, each entry lstat'ed
 * relative to the open directory. For walks that stat every entry of a large tree, where a
 * `fs.lstatSync` per path (and its object of bigints) costs several times the syscall.
 *
 *   const { names, fields } = scanDir(dir);
 *   for (let i = 0; i < names.length; i++) {
 *     const mode = fields[i * SCAN_FIELDS + F_MODE]!;
 *     if (fields[i * SCAN_FIELDS + F_FLAGS] === SCAN_BY_PATH) { ... lstat dir/name yourself ... }
 *   }
 */
import { native } from './native.js';

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
 * F_FLAGS: the entry's other fields are not filled in, because a lookup by path would not
 * reach the same file: its name is not valid UTF-8 (`names` holds a lossy decoding, as
 * fs.readdirSync gives) or its full path is longer than one lstat takes. Look it up by
 * `${dir}/${name}` as a walk by path does (and meet the same outcome).
 */
export const SCAN_BY_PATH = 1;

export interface DirScan {
  /** Entry names in byte order of the names the kernel gave (decoded as fs.readdirSync does). */
  readonly names: readonly string[];
  /** SCAN_FIELDS numbers per entry, in the order of `names`. */
  readonly fields: Float64Array;
  /** Some entry is SCAN_BY_PATH. */
  readonly byPath: boolean;
}

/**
 * The entries of directory `dir` (followed if it is a symlink, as fs.readdirSync does).
 * Entries removed between reading the directory and their lstat are left out. Throws errors
 * shaped like Node's fs errors (syscall 'scandir' or 'lstat').
 */
export function scanDir(dir: string): DirScan {
  const buffer = native().scanDir(dir);
  let bytes = buffer.buffer;
  let at = buffer.byteOffset;
  if (at % 8 !== 0) {
    // Float64Array needs 8-byte alignment; the addon's buffers have it, a copy makes sure.
    bytes = buffer.buffer.slice(at, at + buffer.length);
    at = 0;
  }
  const count = new Float64Array(bytes, at, 1)[0]!;
  const fields = new Float64Array(bytes, at + 8, count * SCAN_FIELDS);
  const names = count === 0 ? [] : buffer.toString('utf8', 8 + count * SCAN_FIELDS * 8).split('/');
  let byPath = false;
  for (let i = F_FLAGS; i < fields.length; i += SCAN_FIELDS) {
    if (fields[i] === SCAN_BY_PATH) {
      byPath = true;
      break;
    }
  }
  return { names, fields, byPath };
}
